import { execFileSync } from 'node:child_process';
import { scopesOf } from '../helpers/scopes';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import pg from 'pg';
import { createContextSigner, deriveContextKey } from '../../auth';
import { DEMO_TENANTS, migrate, openPool, requestRoleOf, serveSubgraph } from '../../subgraphs/kit';
import * as auth from '../../subgraphs/auth/subgraph';
import * as complaints from '../../subgraphs/complaints/subgraph';
import * as records from '../../subgraphs/records/subgraph';
import { loadConfig as loadRecordsConfig } from '../../subgraphs/records/config';
import * as users from '../../subgraphs/users/subgraph';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { postToSubgraph } from '../helpers/stack';

// Each service sees its own schema only: its request role (on the embedded database as on Postgres) and, on Postgres,
// its login role, as deploy/postgres/init-gatehouse.sql sets it up.
const MODULES = [auth, users, records, complaints];
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

/** What `sql` answers as `role` (SET LOCAL ROLE, as a request does), or the SQLSTATE it fails with. */
async function asRole(role: string, sql: string): Promise<string> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL ROLE ${role}`);
    await client.query(sql);
    return 'allowed';
  } catch (error) {
    return (error as { code?: string }).code ?? 'error';
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}

describe('least privilege between services', () => {
  it("a service's request role reads its own schema and is refused every other (permission denied)", async () => {
    for (const module of MODULES) await migrate(db.pool, { schema: module.name, dir: module.migrationsDir });
    const tables = { auth: 'auth.credentials', users: 'users.profiles', records: 'records.records', complaints: 'complaints.complaints' };
    for (const { name } of MODULES) {
      for (const [owner, table] of Object.entries(tables)) {
        const answer = await asRole(requestRoleOf(name), `SELECT 1 FROM ${table} LIMIT 1`);
        expect(`${name} → ${table}: ${answer}`).toBe(`${name} → ${table}: ${owner === name ? 'allowed' : '42501'}`);
      }
    }
  });
});

// On Postgres only: login roles are the server's (the embedded database is one superuser session).
if (process.env.DATABASE_URL) {
  describe('on Postgres, with the login roles of deploy/postgres/init-gatehouse.sql', () => {
    let fresh: TestDatabase;
    const urlAs = (user: string) => {
      const url = new URL(fresh.url!);
      url.username = user;
      url.password = 'unused-under-trust-auth';
      return url.href;
    };
    beforeAll(async () => {
      fresh = await createTestDatabase();
      // The init script as an operator runs it: psql, as the superuser, passwords from the environment.
      execFileSync('psql', ['-X', '-q', '-d', fresh.url!, '-f', resolve(__dirname, '../../deploy/postgres/init-gatehouse.sql')], {
        env: {
          ...process.env,
          AUTH_DB_PASSWORD: 'a',
          USERS_DB_PASSWORD: 'u',
          RECORDS_DB_PASSWORD: 'r',
          COMPLAINTS_DB_PASSWORD: 'c',
        },
        stdio: 'pipe',
      });
    });
    afterAll(async () => {
      await fresh?.close();
    });

    it('the records service runs as its own login: it serves, and cannot read auth.* nor create anything outside its schema', async () => {
      // The auth service migrates its schema as its own login first (so there is an auth.credentials to refuse).
      const authPool = openPool(urlAs('gatehouse_auth'), 1);
      await migrate(authPool, { schema: 'auth', dir: auth.migrationsDir });
      await authPool.end();

      const secret = randomBytes(32).toString('base64url');
      const config = loadRecordsConfig({
        NODE_ENV: 'test',
        PORT: '0',
        METRICS_PORT: '0',
        SEED_DEMO_DATA: 'false',
        DATABASE_URL: urlAs('gatehouse_records'),
        LOG_LEVEL: 'silent',
      });
      const running = await serveSubgraph(records, config, { contextKey: deriveContextKey(secret, 'records'), logger: false });
      const login = new pg.Client({ connectionString: urlAs('gatehouse_records') });
      await login.connect();
      try {
        const member = DEMO_TENANTS[0].users.member;
        const context = {
          user: {
            id: member.id,
            tenantId: DEMO_TENANTS[0].id,
            roles: ['MEMBER'],
            scopes: scopesOf(['MEMBER']),
            sessionId: randomBytes(4).toString('hex'),
          },
          requestId: 'r',
          clientAddress: '',
        };
        const signer = createContextSigner({ masterSecret: secret });
        const send = (query: string) => postToSubgraph(running.url, query, (body) => signer.sign(context, 'records', body));
        const created = await send('mutation { createRecord(input: { title: "as its own login", body: "b" }) { id } }');
        expect(created.body.errors).toBeUndefined();
        const answer = await send('{ records(first: 5) { nodes { id } } }');
        expect(answer.body.errors).toBeUndefined();
        expect(answer.body.data.records.nodes).toEqual([{ id: created.body.data.createRecord.id }]);

        const refused = async (sql: string) =>
          (await login.query(sql).then(
            () => 'allowed',
            (error) => error.code,
          )) as string;
        expect(await refused('SELECT 1 FROM auth.credentials LIMIT 1')).toBe('42501');
        expect(await refused(`SET ROLE ${requestRoleOf('records')}`)).toBe('allowed');
        expect(await refused('SELECT 1 FROM auth.credentials LIMIT 1')).toBe('42501');
        expect(await refused('RESET ROLE')).toBe('allowed');
        expect(await refused('CREATE SCHEMA sneaky')).toBe('42501');
        expect(await refused(`CREATE ROLE sneaky_${randomBytes(3).toString('hex')}`)).toBe('42501');
        const self = await login.query('SELECT rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user');
        expect(self.rows).toEqual([{ rolsuper: false, rolcreaterole: false, rolbypassrls: false }]);
        const owner = await login.query("SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = 'records'");
        expect(owner.rows).toEqual([{ owner: 'gatehouse_records' }]);
      } finally {
        await login.end();
        await running.close();
      }
    });
  });
}
