import type { FastifyInstance } from 'fastify';
import { createSubgraphServer, type SubgraphService } from './createSubgraphServer';
import type { Database } from './database';
import { migrate } from './migrate';

export interface StartSubgraphOptions {
  service: SubgraphService;
  db: Database;
  migrationsDir: string;
  seed?: (db: Database) => Promise<void>;
  contextKey: string | Buffer;
  port: number;
  host: string;
  logger?: boolean | { level: string };
  /** Called with the built server before it listens (tests add hooks here). */
  beforeListen?: (app: FastifyInstance) => void;
}

/** Migrates, seeds when asked, builds and starts one subgraph. Returns the listening server and its URL. */
export async function startSubgraph(options: StartSubgraphOptions): Promise<{ app: FastifyInstance; url: string }> {
  await migrate(options.db.pool, { schema: options.service.name, dir: options.migrationsDir });
  if (options.seed) await options.seed(options.db);
  const app = await createSubgraphServer({
    service: options.service,
    db: options.db,
    contextKey: options.contextKey,
    logger: options.logger,
  });
  options.beforeListen?.(app);
  await app.listen({ port: options.port, host: options.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { app, url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/graphql` };
}
