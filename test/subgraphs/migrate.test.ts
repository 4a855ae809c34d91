import { appendFile, cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MigrationError, migrate, requestRoleOf } from '../../subgraphs/kit';
import * as users from '../../subgraphs/users/subgraph';
import * as records from '../../subgraphs/records/subgraph';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-migrations-'));
});
afterAll(async () => {
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('migrations', () => {
  it('apply once, are tracked in the schema, and are idempotent', async () => {
    // The kit's own (every subgraph gets them, first), then the subgraph's.
    const sqlIn = async (dir: string) => (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
    const files = [
      ...(await sqlIn(resolve(__dirname, '../../subgraphs/kit/migrations'))).map((file) => `kit/${file}`),
      ...(await sqlIn(users.migrationsDir)),
    ];
    expect(await migrate(db.pool, { schema: 'users', dir: users.migrationsDir })).toEqual(files);
    expect(await migrate(db.pool, { schema: 'users', dir: users.migrationsDir })).toEqual([]);
    const { rows } = await db.pool.query('SELECT version FROM users.schema_migrations ORDER BY applied_at, version');
    expect(rows.map((row) => row.version).sort()).toEqual([...files].sort());
    expect((await db.pool.query("SELECT to_regclass('users.idempotency_keys') AS t")).rows[0].t).toBe('users.idempotency_keys');
  });

  it('give each service its own schema and its own request role: no ownership, no bypass of row-level security', async () => {
    await migrate(db.pool, { schema: 'records', dir: records.migrationsDir });
    for (const schema of ['users', 'records']) {
      const role = await db.pool.query('SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = $1', [
        requestRoleOf(schema),
      ]);
      expect(role.rows).toEqual([{ rolsuper: false, rolbypassrls: false, rolcanlogin: false }]);
    }
    const owned = await db.pool.query(
      "SELECT count(*)::int AS n FROM pg_tables WHERE tableowner LIKE 'gatehouse\\_%\\_app' AND schemaname IN ('users', 'records')",
    );
    expect(owned.rows[0].n).toBe(0);
    const rls = await db.pool.query(
      "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relnamespace = 'records'::regnamespace AND relname = 'records'",
    );
    expect(rls.rows).toEqual([{ relname: 'records', relrowsecurity: true, relforcerowsecurity: true }]);
  });

  it("grant a service's request role its own schema only", async () => {
    const privileges = await db.pool.query<{ role: string; schema: string }>(
      `SELECT DISTINCT grantee AS role, table_schema AS schema FROM information_schema.role_table_grants
        WHERE grantee IN ($1, $2) ORDER BY 1, 2`,
      [requestRoleOf('users'), requestRoleOf('records')],
    );
    expect(privileges.rows).toEqual([
      { role: requestRoleOf('records'), schema: 'records' },
      { role: requestRoleOf('users'), schema: 'users' },
    ]);
  });

  it('move what the shared role of earlier versions held to the service role, and leave it nothing', async () => {
    // An earlier deployment: the shared role, holding grants in a schema the new code then migrates.
    await db.pool.query(`
      DO $$ BEGIN CREATE ROLE gatehouse_app NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
      CREATE SCHEMA legacy;
      CREATE TABLE legacy.notes (id serial PRIMARY KEY, body text);
      GRANT USAGE ON SCHEMA legacy TO gatehouse_app;
      GRANT SELECT, INSERT ON legacy.notes TO gatehouse_app;
      GRANT USAGE ON SEQUENCE legacy.notes_id_seq TO gatehouse_app;`);
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    await migrate(db.pool, { schema: 'legacy', dir: empty });
    const grants = await db.pool.query<{ grantee: string; privilege_type: string }>(
      "SELECT grantee, privilege_type FROM information_schema.role_table_grants WHERE table_schema = 'legacy' AND table_name = 'notes' ORDER BY 1, 2",
    );
    expect(grants.rows.filter((row) => row.grantee !== 'postgres')).toEqual([
      { grantee: 'gatehouse_legacy_app', privilege_type: 'INSERT' },
      { grantee: 'gatehouse_legacy_app', privilege_type: 'SELECT' },
    ]);
    const schemaUse = await db.pool.query("SELECT has_schema_privilege('gatehouse_app', 'legacy', 'USAGE') AS u");
    expect(schemaUse.rows[0].u).toBe(false);
  });

  it('refuse to start when an applied migration was changed, and roll back a failing one whole', async () => {
    const copy = join(dir, 'users');
    await cp(users.migrationsDir, copy, { recursive: true });
    await appendFile(join(copy, '001_init.sql'), '\n-- edited after the fact\n');
    await expect(migrate(db.pool, { schema: 'users', dir: copy })).rejects.toThrow(MigrationError);

    const broken = join(dir, 'broken');
    await cp(users.migrationsDir, broken, { recursive: true });
    await writeFile(join(broken, '002_broken.sql'), 'CREATE TABLE users.half_done (id int);\nSELECT no_such_function();\n');
    await expect(migrate(db.pool, { schema: 'users', dir: broken })).rejects.toThrow(/002_broken\.sql failed/);
    const table = await db.pool.query("SELECT to_regclass('users.half_done') AS t");
    expect(table.rows[0].t).toBeNull();
    const tracked = await db.pool.query("SELECT count(*)::int AS n FROM users.schema_migrations WHERE version = '002_broken.sql'");
    expect(tracked.rows[0].n).toBe(0);
  });
});
