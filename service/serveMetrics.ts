import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  /** Where Prometheus scrapes, e.g. http://0.0.0.0:9400/metrics. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves a Prometheus registry at GET /metrics on a port of its own (METRICS_PORT), apart from the public one: a
 * deployment exposes the service port to clients and keeps this one inside (compose's networks, a Kubernetes
 * NetworkPolicy). Anything else on it answers 404.
 */
export async function serveMetrics(options: { registry: Registry; port: number; host: string }): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    options.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
