import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { requestRoleOf } from './database';

const MIGRATION_FILE = /^(\d{3,})_[a-z0-9_]+\.sql$/;
// One lock for every service's migrations: they also create roles, which are shared by the whole cluster.
const LOCK_KEY = 7_204_811;
/** The one request role of every service in earlier versions; its grants move to each service's own role. */
const LEGACY_ROLE = 'gatehouse_app';

export class MigrationError extends Error {
  name = 'MigrationError';
}

/** The kit's own migrations, applied to every subgraph's schema before the subgraph's ({{schema}}, {{app_role}} filled). */
const KIT_MIGRATIONS_DIR = join(__dirname, 'migrations');

async function migrationFiles(dir: string, prefix: string) {
  const names = (await readdir(dir)).filter((file) => MIGRATION_FILE.test(file)).sort();
  return Promise.all(names.map(async (name) => ({ version: `${prefix}${name}`, text: await readFile(join(dir, name), 'utf8') })));
}

/**
 * Applies the kit's migrations (versions `kit/NNN_name.sql`: tables every subgraph has, such as its idempotency keys),
 * then the SQL files of `dir` (NNN_name.sql, in order) to `schema`, each in its own transaction, recording them in
 * `<schema>.schema_migrations` with a checksum of the file as written. Idempotent; refuses to start when an applied
 * file changed. Returns the versions applied by this call.
 *
 * Privileges go to the schema's own request role (`{{app_role}}` in a file; `gatehouse_app`, the shared role of
 * earlier versions, means the same): it is created when missing, and whatever the shared role still holds in the
 * schema moves to it, so no request role can read another service's schema.
 */
export async function migrate(pool: pg.Pool, options: { schema: string; dir: string }): Promise<string[]> {
  const { schema, dir } = options;
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new TypeError(`migrate: bad schema name "${schema}"`);
  const role = requestRoleOf(schema);
  const fill = (sql: string) =>
    sql
      .replaceAll('{{schema}}', schema)
      .replaceAll('{{app_role}}', role)
      .replace(new RegExp(`\\b${LEGACY_ROLE}\\b`, 'g'), role);
  const files = [...(await migrationFiles(KIT_MIGRATIONS_DIR, 'kit/')), ...(await migrationFiles(dir, ''))];
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN
          CREATE ROLE ${role} NOLOGIN NOBYPASSRLS;
        END IF;
      -- Roles are cluster-wide but advisory locks are per database: another database may create it first.
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$;
      -- The login that migrates is the one that serves: it must be able to act as its request role.
      DO $$ BEGIN
        IF NOT pg_has_role(current_user, '${role}', 'MEMBER') THEN
          EXECUTE format('GRANT ${role} TO %I', current_user);
        END IF;
      END $$;
      -- Created only when missing: a service's login may own its schema without the right to create one.
      DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = '${schema}') THEN
          CREATE SCHEMA ${schema};
        END IF;
      END $$;
      CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
        version text PRIMARY KEY,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      );
      GRANT USAGE ON SCHEMA ${schema} TO ${role};`);
    const { rows } = await client.query<{ version: string; checksum: string }>(`SELECT version, checksum FROM ${schema}.schema_migrations`);
    const done = new Map(rows.map((row) => [row.version, row.checksum]));
    for (const { version: file, text } of files) {
      const checksum = createHash('sha256').update(text).digest('hex');
      const previous = done.get(file);
      if (previous !== undefined) {
        if (previous !== checksum) throw new MigrationError(`Migration ${schema}/${file} was changed after it was applied`);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(fill(text));
        await client.query(`INSERT INTO ${schema}.schema_migrations (version, checksum) VALUES ($1, $2)`, [file, checksum]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new MigrationError(`Migration ${schema}/${file} failed: ${(error as Error).message}`);
      }
      applied.push(file);
    }
    await moveLegacyGrants(client, schema, role);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    client.release();
  }
  return applied;
}

/** Gives `role` what the shared role of earlier versions holds in `schema`, and takes all of it from that one. */
async function moveLegacyGrants(client: pg.PoolClient, schema: string, role: string) {
  const legacy = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [LEGACY_ROLE]);
  if (!legacy.rowCount) return;
  const grants = await client.query<{ table_name: string; privilege_type: string }>(
    'SELECT table_name, privilege_type FROM information_schema.role_table_grants WHERE grantee = $1 AND table_schema = $2',
    [LEGACY_ROLE, schema],
  );
  const sequences = await client.query<{ object_name: string }>(
    "SELECT object_name FROM information_schema.role_usage_grants WHERE grantee = $1 AND object_schema = $2 AND object_type = 'SEQUENCE'",
    [LEGACY_ROLE, schema],
  );
  await client.query('BEGIN');
  try {
    for (const { table_name: table, privilege_type: privilege } of grants.rows) {
      await client.query(`GRANT ${privilege} ON ${schema}."${table}" TO ${role}`);
    }
    for (const { object_name: sequence } of sequences.rows)
      await client.query(`GRANT USAGE ON SEQUENCE ${schema}."${sequence}" TO ${role}`);
    await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${schema} FROM ${LEGACY_ROLE}`);
    await client.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${schema} FROM ${LEGACY_ROLE}`);
    await client.query(`REVOKE ALL ON SCHEMA ${schema} FROM ${LEGACY_ROLE}`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw new MigrationError(`Moving the privileges of ${LEGACY_ROLE} in ${schema} to ${role} failed: ${(error as Error).message}`);
  }
}
