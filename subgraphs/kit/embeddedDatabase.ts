import { mkdir } from 'node:fs/promises';
import pg from 'pg';

/**
 * Opens the embedded Postgres (PGlite) used when no DATABASE_URL is set, and a pg.Pool over it through PGlite's
 * node-postgres adapter, so data/ code is the same for both. PGlite is one session: the pool holds one connection
 * and every service of the process must share this pool. Pass `dataDir` undefined for an in-memory database.
 */
export async function openEmbeddedPool(dataDir: string | undefined): Promise<{ pool: pg.Pool; close(): Promise<void> }> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { createPgConfig } = await import('@electric-sql/pglite/node-postgres');
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const pglite = new PGlite(dataDir);
  await pglite.waitReady;
  const pool = new pg.Pool({ ...createPgConfig(pglite), max: 1 } as pg.PoolConfig);
  return {
    pool,
    async close() {
      await pool.end();
      await pglite.close();
    },
  };
}

/**
 * A pool for DATABASE_URL (real Postgres). A connection that dies (Postgres restarted, the session terminated, the
 * network cut) makes its pg Client emit 'error'; unheard, that is an unhandled 'error' event and brings the whole
 * process down. Idle, pg-pool relays it as the pool's 'error' (`onIdleError`) and drops the connection. Checked out
 * by a request, pg-pool listens to nothing: every client gets a listener of its own when it connects, the statement
 * in flight rejects with the same error, and the transaction answers SERVICE_UNAVAILABLE and discards the connection.
 */
export function openPool(databaseUrl: string, max = 10, onIdleError: (error: Error) => void = () => undefined): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
  pool.on('error', onIdleError);
  pool.on('connect', (client) => client.on('error', ignoreInFlightError));
  return pool;
}

// The request holding the connection learns of the failure from its statement's rejection (or the next one's).
const ignoreInFlightError = () => undefined;
