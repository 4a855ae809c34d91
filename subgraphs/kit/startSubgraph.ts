import type { FastifyInstance } from 'fastify';
import { createSubgraphServer, type LoggerOptions, type SubgraphService } from './createSubgraphServer';
import type { Database } from './database';

export interface StartSubgraphOptions {
  service: SubgraphService;
  db: Database;
  contextKey: string | Buffer;
  port: number;
  host: string;
  logger?: boolean | LoggerOptions;
  stepUpMaxAgeSeconds?: number;
  otlpEndpoint?: string;
  /** Called with the built server before it listens (tests add hooks here). */
  beforeListen?: (app: FastifyInstance) => void;
}

/** Builds and starts the server of one subgraph (already migrated). Returns the listening server and its URL. */
export async function startSubgraph(options: StartSubgraphOptions): Promise<{ app: FastifyInstance; url: string }> {
  const app = await createSubgraphServer({
    service: options.service,
    db: options.db,
    contextKey: options.contextKey,
    logger: options.logger,
    stepUpMaxAgeSeconds: options.stepUpMaxAgeSeconds,
    otlpEndpoint: options.otlpEndpoint,
  });
  options.beforeListen?.(app);
  await app.listen({ port: options.port, host: options.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { app, url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/graphql` };
}
