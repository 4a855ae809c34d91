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
 * A pool for DATABASE_URL (real Postgres). An idle connection that dies (Postgres restarted, the session terminated,
 * the network cut) makes pg-pool emit 'error': without a listener that would be an unhandled 'error' event and bring
 * the whole process down. pg-pool has already dropped the broken connection; the next query opens a new one, and a
 * query that cannot reach the database fails with its own error (answered as SERVICE_UNAVAILABLE).
 */
export function openPool(databaseUrl: string, max = 10, onIdleError: (error: Error) => void = () => undefined): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
  pool.on('error', onIdleError);
  return pool;
}
