import type { FastifyInstance } from 'fastify';
import { shutdownTracing } from '../auth';

/**
 * Stops accepting, lets requests in flight finish, then closes. Node closes only the keep-alive connections that
 * are idle when closing starts, so the ones that become idle afterwards are swept as they do; past `timeoutMs`
 * whatever is left is cut.
 */
export async function closeGracefully(app: FastifyInstance, timeoutMs = 10_000): Promise<void> {
  const closing = app.close();
  const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
  const deadline = setTimeout(() => app.server.closeAllConnections(), timeoutMs);
  try {
    await closing;
  } finally {
    clearInterval(sweep);
    clearTimeout(deadline);
  }
}

/**
 * The one shutdown path of every process (the gateway, each subgraph, npm start): on the first SIGINT or SIGTERM,
 * `close` drains and releases what the process holds, then the tracing exporter is flushed and stopped.
 */
export function closeOnSignals(close: () => Promise<void>, log: { info(msg: string): void; error(obj: object, msg: string): void }) {
  let closing = false;
  const handler = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info(`${signal} received: draining and shutting down`);
    close()
      .catch((error: Error) => log.error({ err: error }, 'shutdown failed'))
      .finally(() => void shutdownTracing());
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
