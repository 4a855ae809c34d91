import { createDatabase, createEventOutbox, migrate, requestRoleOf, type Database } from '../../subgraphs/kit';
import * as complaints from '../../subgraphs/complaints/subgraph';
import { createRedisEventBus, type LiveEvent } from '../../service/eventBus';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { eventually } from '../helpers/eventually';
import { startPrivateRedis } from '../helpers/redisServer';
import { acme } from '../helpers/tokens';

/*
 * The outbox of a subgraph's events, on a real database (the complaints schema, its request role) and a Redis of
 * this test's own, which it stops and starts.
 */
let testDb: TestDatabase;
let db: Database;
let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
beforeAll(async () => {
  testDb = await createTestDatabase();
  await migrate(testDb.pool, { schema: 'complaints', dir: complaints.migrationsDir });
  db = createDatabase(testDb.pool, requestRoleOf('complaints'));
  redis = await startPrivateRedis();
});
afterAll(async () => {
  await redis?.stop();
  await testDb?.close();
});

const event = (id: string): Omit<LiveEvent, 'at'> => ({
  topic: 'complaints',
  id,
  tenantId: acme.id,
  audience: { userIds: [acme.users.member.id] },
  change: 'FILED',
});
const pending = async () => Number((await testDb.pool.query('SELECT count(*) FROM complaints.event_outbox')).rows[0].count);

describe('the event outbox', () => {
  it('announces committed changes only, and keeps what the bus refused until it is back', async () => {
    const outbox = createEventOutbox({
      pool: testDb.pool,
      schema: 'complaints',
      redisUrl: redis.url,
      keyPrefix: 'outbox-test:',
      redisTimeoutMs: 2000,
    });
    const follower = createRedisEventBus({ url: redis.url, key: 'outbox-test:events' });
    const received: string[] = [];
    let live = false;
    const subscription = follower.subscribe(
      (e) => received.push(e.id),
      (state) => (live = state === 'live'),
    );
    await eventually(() => live);

    // Written in the change's transaction (as the request role): committed, it is relayed and leaves the outbox.
    await db.withTenant(acme.id, (tx) => outbox.record(tx, event('committed')));
    expect(await outbox.flush()).toBe(1);
    await eventually(() => received.includes('committed'));
    expect(await pending()).toBe(0);

    // Rolled back with its change: never announced.
    await expect(
      db.withTenant(acme.id, async (tx) => {
        await outbox.record(tx, event('rolled-back'));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await outbox.flush()).toBe(0);

    // The bus is down at commit time: the event waits in the outbox, and goes out once Redis is back.
    await redis.stop();
    await db.withTenant(acme.id, (tx) => outbox.record(tx, event('while-down')));
    expect(await outbox.flush()).toBe(0);
    expect(await pending()).toBe(1);
    await redis.start();
    await eventually(async () => (await outbox.flush().catch(() => 0)) === 1);
    await eventually(() => received.includes('while-down'));
    expect(received).toEqual(['committed', 'while-down']);
    expect(await pending()).toBe(0);

    await subscription.close();
    await follower.close();
    await outbox.close();
  }, 30_000);

  it('gives requests no way to read the outbox', async () => {
    await expect(db.withTenant(acme.id, (tx) => tx.query('SELECT * FROM complaints.event_outbox'))).rejects.toMatchObject({
      code: '42501',
    });
  });
});
