import { randomBytes } from 'node:crypto';
import { scopesOf } from '../helpers/scopes';
import { Writable } from 'node:stream';
import type pg from 'pg';
import { createContextSigner, deriveContextKey } from '../../auth';
import { DEMO_TENANTS, openPool, serveSubgraph } from '../../subgraphs/kit';
import * as records from '../../subgraphs/records/subgraph';
import { loadConfig as loadRecordsConfig } from '../../subgraphs/records/config';
import * as users from '../../subgraphs/users/subgraph';
import { loadConfig as loadUsersConfig } from '../../subgraphs/users/config';
import { postToSubgraph, type GraphQLResult } from '../helpers/stack';
import { createTestDatabase } from '../helpers/database';
import { eventually } from '../helpers/eventually';
import { startTcpRelay } from '../helpers/tcpRelay';

// The pool's connections go through a TCP relay that the test can cut, to the Postgres server of DATABASE_URL or,
// without it, to an embedded PGlite served over the Postgres wire protocol (@electric-sql/pglite-socket).
let upstream: { host: string; port: number; user: string; database: string; close(): Promise<void> };
let relay: Awaited<ReturnType<typeof startTcpRelay>>;

beforeAll(async () => {
  if (process.env.DATABASE_URL) {
    // A database of this file's own (the service below migrates into it), dropped afterwards.
    const db = await createTestDatabase();
    const url = new URL(db.url!);
    upstream = {
      host: url.hostname,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username),
      database: url.pathname.slice(1),
      close: () => db.close().catch(() => undefined),
    };
  } else {
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const db = await PGlite.create();
    // PGlite is one session; the socket server queues the connections' queries onto it.
    const socketServer = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 20 });
    await socketServer.start();
    upstream = {
      host: '127.0.0.1',
      port: Number(socketServer.getServerConn().split(':').at(-1)),
      user: 'postgres',
      database: 'postgres',
      close: async () => {
        await socketServer.stop();
        await db.close();
      },
    };
  }
  relay = await startTcpRelay(upstream);
});
afterAll(async () => {
  await relay?.close();
  await upstream?.close();
});

describe('the database pool of a service', () => {
  it('survives an idle connection dying under it, and the next query opens a new one', async () => {
    const idleErrors: Error[] = [];
    const pool: pg.Pool = openPool(`postgres://${upstream.user}@127.0.0.1:${relay.port}/${upstream.database}`, 1, (error) =>
      idleErrors.push(error),
    );
    try {
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(pool.idleCount).toBe(1);
      const before = relay.connections;

      // The connection dies while idle in the pool (a restart, a terminated session, a cut network). Without the
      // pool's listener this 'error' event would be unhandled and end the process (and this test file).
      relay.cut();
      await eventually(() => idleErrors.length > 0);
      expect(pool.totalCount).toBe(0);

      expect((await pool.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
      expect(relay.connections).toBe(before + 1);
      expect(idleErrors).toHaveLength(1);
    } finally {
      await pool.end();
    }
  });

  it('is logged by the service that owns it with its code and message only, never the connection string', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const password = `pool-secret-${randomBytes(8).toString('hex')}`;
    const config = loadUsersConfig({
      NODE_ENV: 'test',
      PORT: '0',
      DATABASE_URL: `postgres://${upstream.user}:${password}@127.0.0.1:${relay.port}/${upstream.database}`,
    });
    const running = await serveSubgraph(users, config, { contextKey: randomBytes(32), logger: { level: 'warn', stream: sink } });
    try {
      relay.cut();
      await eventually(() => lines.some((line) => line.includes('an idle database connection failed')));
      const [line] = lines.filter((entry) => entry.includes('an idle database connection failed'));
      expect(JSON.parse(line)).toMatchObject({ level: 40, msg: expect.stringContaining('the pool dropped it') });
      expect(lines.join('')).not.toContain(password);
      // The service still answers from its database: the pool opened a new connection.
      const response = await fetch(running.url.replace('/graphql', '/health/ready'));
      expect(response.status).toBe(200);
    } finally {
      await running.close();
    }
  });

  it('fails a request whose connection dies under it with SERVICE_UNAVAILABLE, discards the connection and goes on serving', async () => {
    const secret = randomBytes(32).toString('base64url');
    const url = `postgres://${upstream.user}@127.0.0.1:${relay.port}/${upstream.database}`;
    const config = loadRecordsConfig({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: url, LOG_LEVEL: 'silent' });
    const running = await serveSubgraph(records, config, { contextKey: deriveContextKey(secret, 'records'), logger: false });
    const signer = createContextSigner({ masterSecret: secret });
    const members = DEMO_TENANTS.map((tenant) => ({ tenant, user: tenant.users.member }));
    const create = (index: number) => {
      const { tenant, user } = members[index % members.length];
      const context = {
        user: { id: user.id, tenantId: tenant.id, roles: ['MEMBER'], scopes: scopesOf(['MEMBER']), sessionId: crypto.randomUUID() },
        requestId: 'r',
        clientAddress: '',
      };
      return postToSubgraph(
        running.url,
        'mutation($input: CreateRecordInput!) { createRecord(input: $input) { id title } }',
        (body) => signer.sign(context, 'records', body),
        { variables: { input: { title: `cut-${tenant.slug}-${index}`, body: 'written while connections die', classification: 'PUBLIC' } } },
      );
    };
    const owner = openPool(`postgres://${upstream.user}@${upstream.host}:${upstream.port}/${upstream.database}`, 1);
    try {
      // Concurrent writes and connections cut under them, again and again.
      const answers: Array<Promise<GraphQLResult>> = [];
      for (let wave = 0; wave < 6; wave++) {
        for (let i = 0; i < 10; i++) answers.push(create(wave * 10 + i));
        await new Promise((resolve) => setTimeout(resolve, 5 + wave * 3));
        relay.cut();
      }
      const results = await Promise.all(answers);
      const created = results
        .filter((result) => result.body.data?.createRecord)
        .map((result) => result.body.data.createRecord.title as string);
      const refused = results.filter((result) => !result.body.data?.createRecord);
      expect(refused.length).toBeGreaterThan(0); // the cuts did hit requests in flight
      for (const result of refused) {
        expect(result.body.errors?.map((error) => error.extensions)).toEqual([
          { code: 'SERVICE_UNAVAILABLE', reason: 'database_unavailable' },
        ]);
      }

      // The process is alive (an unhandled 'error' would have ended it) and serving: later writes succeed.
      const later = await create(1000);
      expect(later.body.errors).toBeUndefined();
      expect(later.body.data.createRecord.title).toMatch(/^cut-/);
      expect((await fetch(running.url.replace('/graphql', '/health/ready'))).status).toBe(200);

      // Every row is whole and in its writer's tenant; every answered write is there (a write whose COMMIT was cut may
      // be there too: that is what Idempotency-Key is for), and nothing else.
      const { rows } = await owner.query<{ title: string; tenant_id: string; owner_id: string; body: string }>(
        "SELECT title, tenant_id, owner_id, body FROM records.records WHERE title LIKE 'cut-%'",
      );
      for (const row of rows) {
        const writer = members.find(({ tenant }) => row.title.startsWith(`cut-${tenant.slug}-`))!;
        expect(row).toMatchObject({ tenant_id: writer.tenant.id, owner_id: writer.user.id, body: 'written while connections die' });
      }
      const titles = rows.map((row) => row.title);
      expect(titles).toEqual(expect.arrayContaining([...created, later.body.data.createRecord.title]));
      expect(titles.length).toBeLessThanOrEqual(results.length + 1);
    } finally {
      await owner.end();
      await running.close();
    }
  });
});
