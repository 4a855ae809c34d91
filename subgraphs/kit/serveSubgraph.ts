import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { DEV_CONTEXT_SECRET_FILE, deriveContextKey, flushTracing, loadOrCreateDevSecret, type RevocationBus } from '../../auth';
import type { EventBus } from '../../service/eventBus';
import type { LoggerOptions, SubgraphService } from './createSubgraphServer';
import { createDatabase, requestRoleOf, type Database } from './database';
import { openEmbeddedPool, openPool } from './embeddedDatabase';
import { lockDataDir } from './lockDataDir';
import { closeGracefully } from '../../service/shutdown';
import { migrate } from './migrate';
import { startSubgraph } from './startSubgraph';
import { createSubgraphMetrics } from './subgraphMetrics';
import type { SubgraphConfig } from './subgraphConfig';

/** In-process services the launcher shares between the auth subgraph and the gateway (embedded defaults). */
export interface SharedServices {
  revocationBus?: RevocationBus;
  /** Events for the gateway's subscriptions (the launcher's in-memory bus, when there is no Redis). */
  eventBus?: EventBus;
}

/** What each subgraphs/<name>/subgraph.ts exports. */
export interface SubgraphModule<C extends SubgraphConfig = SubgraphConfig> {
  name: string;
  migrationsDir: string;
  seed(db: Database, config: C): Promise<void>;
  createSubgraph(config: C, db: Database, shared?: SharedServices): SubgraphService | Promise<SubgraphService>;
}

export interface ServeOptions {
  /** A shared pool (the launcher's single embedded database, or a test's). Default: from config. */
  pool?: pg.Pool;
  /** Overrides CONTEXT_KEY / the development secret (tests). */
  contextKey?: string | Buffer;
  logger?: boolean | LoggerOptions;
  beforeListen?: (app: FastifyInstance) => void;
  shared?: SharedServices;
}

export interface RunningSubgraph {
  app: FastifyInstance;
  url: string;
  /** Prometheus metrics of this subgraph (METRICS_PORT). */
  metricsUrl: string;
  db: Database;
  close(): Promise<void>;
}

/** This subgraph's context key: CONTEXT_KEY, or in development derived from the secret kept in DATA_DIR. */
export async function resolveContextKey(config: SubgraphConfig): Promise<string | Buffer> {
  if (config.CONTEXT_KEY) return config.CONTEXT_KEY;
  const master = await loadOrCreateDevSecret(join(config.DATA_DIR, DEV_CONTEXT_SECRET_FILE));
  return deriveContextKey(master, config.name);
}

/**
 * Opens the database (DATABASE_URL, or an embedded PGlite in DATA_DIR/pglite-<name>), migrates, builds the service,
 * seeds in development, and starts the subgraph. `close` drains requests in flight, then closes what it opened.
 */
export async function serveSubgraph<C extends SubgraphConfig>(
  module: SubgraphModule<C>,
  config: C,
  options: ServeOptions = {},
): Promise<RunningSubgraph> {
  let closePool: (() => Promise<void>) | undefined;
  let pool = options.pool;
  // Set once the service's logger exists (an idle connection rarely dies during start-up; it is never fatal).
  let reportIdleError: ((error: Error) => void) | undefined;
  if (!pool) {
    if (config.DATABASE_URL) {
      const own = openPool(config.DATABASE_URL, 10, (error) => reportIdleError?.(error));
      pool = own;
      closePool = () => own.end();
    } else {
      const dir = join(config.DATA_DIR, `pglite-${module.name}`);
      const lock = await lockDataDir(dir);
      const embedded = await openEmbeddedPool(dir);
      pool = embedded.pool;
      closePool = async () => {
        await embedded.close();
        await lock.release();
      };
    }
  }
  const metrics = createSubgraphMetrics(module.name);
  const sqlStatements = metrics.sqlStatements.labels({ service: module.name });
  const db = createDatabase(pool, requestRoleOf(module.name), { onStatement: () => sqlStatements.inc() });
  await migrate(pool, { schema: module.name, dir: module.migrationsDir });
  const service = await module.createSubgraph(config, db, options.shared);
  if (config.seedDemoData) await module.seed(db, config);
  const { app, url, metricsUrl } = await startSubgraph({
    service,
    db,
    contextKey: options.contextKey ?? (await resolveContextKey(config)),
    port: config.PORT,
    metricsPort: config.METRICS_PORT,
    host: config.HOST,
    logger: options.logger ?? { level: config.LOG_LEVEL },
    stepUpMaxAgeSeconds: config.STEP_UP_MAX_AGE_SECONDS,
    idempotencyKeyTtlSeconds: config.IDEMPOTENCY_KEY_TTL_SECONDS,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    beforeListen: options.beforeListen,
    metrics,
  });
  // The code and message only: pg-pool hangs the whole connection on the error (`error.client`: its parameters and
  // socket; pg keeps the password non-enumerable), which the error serializer would write out at length.
  reportIdleError = (error) =>
    app.log.warn({ code: (error as { code?: string }).code }, `an idle database connection failed (${error.message}); the pool dropped it`);
  return {
    app,
    url,
    metricsUrl,
    db,
    async close() {
      await closeGracefully(app);
      await closePool?.();
      await flushTracing();
    },
  };
}
