import type { FastifyInstance } from 'fastify';
import { serveMetrics } from '../../service/serveMetrics';
import { createSubgraphServer, type LoggerOptions, type SubgraphService } from './createSubgraphServer';
import type { Database } from './database';
import { createSubgraphMetrics, type SubgraphMetrics } from './subgraphMetrics';

export interface StartSubgraphOptions {
  service: SubgraphService;
  db: Database;
  contextKey: string | Buffer;
  port: number;
  /** Where /metrics is served, apart from the public port. */
  metricsPort: number;
  host: string;
  logger?: boolean | LoggerOptions;
  stepUpMaxAgeSeconds?: number;
  idempotencyKeyTtlSeconds?: number;
  otlpEndpoint?: string;
  /** The subgraph's metrics, when the caller made them already (to count the database's statements). */
  metrics?: SubgraphMetrics;
  /** Called with the built server before it listens (tests add hooks here). */
  beforeListen?: (app: FastifyInstance) => void;
}

/**
 * Builds and starts the server of one subgraph (already migrated), and its metrics on their own port. Returns the
 * listening server, its URL and the metrics URL; closing the server closes both.
 */
export async function startSubgraph(options: StartSubgraphOptions): Promise<{ app: FastifyInstance; url: string; metricsUrl: string }> {
  const metrics = options.metrics ?? createSubgraphMetrics(options.service.name);
  const app = await createSubgraphServer({
    metrics,
    service: options.service,
    db: options.db,
    contextKey: options.contextKey,
    logger: options.logger,
    stepUpMaxAgeSeconds: options.stepUpMaxAgeSeconds,
    idempotencyKeyTtlSeconds: options.idempotencyKeyTtlSeconds,
    otlpEndpoint: options.otlpEndpoint,
  });
  options.beforeListen?.(app);
  const metricsServer = await serveMetrics({ registry: metrics.registry, port: options.metricsPort, host: options.host });
  app.addHook('onClose', () => metricsServer.close());
  await app.listen({ port: options.port, host: options.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    app,
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/graphql`,
    metricsUrl: metricsServer.url,
  };
}
