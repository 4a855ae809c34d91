import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { APP_ROLE } from './database';

const MIGRATION_FILE = /^(\d{3,})_[a-z0-9_]+\.sql$/;
// One lock for every service's migrations: they also create the shared APP_ROLE, which must not race.
const LOCK_KEY = 7_204_811;

export class MigrationError extends Error {
  name = 'MigrationError';
}

/** The kit's own migrations, applied to every subgraph's schema before the subgraph's ({{schema}}, {{app_role}} filled). */
const KIT_MIGRATIONS_DIR = join(__dirname, 'migrations');

async function migrationFiles(dir: string, prefix: string, fill: (sql: string) => string) {
  const names = (await readdir(dir)).filter((file) => MIGRATION_FILE.test(file)).sort();
  return Promise.all(names.map(async (name) => ({ version: `${prefix}${name}`, sql: fill(await readFile(join(dir, name), 'utf8')) })));
}

/**
 * Applies the kit's migrations (versions `kit/NNN_name.sql`: tables every subgraph has, such as its idempotency keys),
 * then the SQL files of `dir` (NNN_name.sql, in order) to `schema`, each in its own transaction, recording them in
 * `<schema>.schema_migrations` with a checksum. Idempotent; refuses to start when an applied file changed.
 * Returns the versions applied by this call.
 */
export async function migrate(pool: pg.Pool, options: { schema: string; dir: string }): Promise<string[]> {
  const { schema, dir } = options;
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new TypeError(`migrate: bad schema name "${schema}"`);
  const fill = (sql: string) => sql.replaceAll('{{schema}}', schema).replaceAll('{{app_role}}', APP_ROLE);
  const files = [...(await migrationFiles(KIT_MIGRATIONS_DIR, 'kit/', fill)), ...(await migrationFiles(dir, '', (sql) => sql))];
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
          CREATE ROLE ${APP_ROLE} NOLOGIN NOBYPASSRLS;
        END IF;
      -- Roles are cluster-wide but advisory locks are per database: another database may create it first.
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$;
      CREATE SCHEMA IF NOT EXISTS ${schema};
      CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
        version text PRIMARY KEY,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      );
      GRANT USAGE ON SCHEMA ${schema} TO ${APP_ROLE};`);
    const { rows } = await client.query<{ version: string; checksum: string }>(`SELECT version, checksum FROM ${schema}.schema_migrations`);
    const done = new Map(rows.map((row) => [row.version, row.checksum]));
    for (const { version: file, sql } of files) {
      const checksum = createHash('sha256').update(sql).digest('hex');
      const previous = done.get(file);
      if (previous !== undefined) {
        if (previous !== checksum) throw new MigrationError(`Migration ${schema}/${file} was changed after it was applied`);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query(`INSERT INTO ${schema}.schema_migrations (version, checksum) VALUES ($1, $2)`, [file, checksum]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new MigrationError(`Migration ${schema}/${file} failed: ${(error as Error).message}`);
      }
      applied.push(file);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    client.release();
  }
  return applied;
}
