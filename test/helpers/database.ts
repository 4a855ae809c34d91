import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openEmbeddedPool, openPool } from '../../subgraphs/kit';

export interface TestDatabase {
  pool: pg.Pool;
  /** Where the database lives: 'postgres' (DATABASE_URL) or 'pglite'. */
  kind: 'postgres' | 'pglite';
  /** The fresh database's own URL (Postgres only). */
  url?: string;
  close(): Promise<void>;
}

/**
 * A fresh, empty database for one test file: a new database on the server of DATABASE_URL (dropped afterwards),
 * or an in-memory PGlite when DATABASE_URL is unset. Test runs never share tables.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const embedded = await openEmbeddedPool(undefined);
    return { pool: embedded.pool, kind: 'pglite', close: embedded.close };
  }
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const testUrl = new URL(url);
  testUrl.pathname = `/${name}`;
  // openPool, as the services use it: pool.end() below resolves before every session is gone, and one the forced drop
  // terminates first must not surface as an unhandled 'error' event of an idle connection.
  const pool = openPool(testUrl.href, 10);
  return {
    pool,
    kind: 'postgres',
    url: testUrl.href,
    async close() {
      await pool.end();
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}
