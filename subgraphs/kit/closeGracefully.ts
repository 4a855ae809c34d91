import type { FastifyInstance } from 'fastify';

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
