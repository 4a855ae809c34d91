import { Redis } from 'ioredis';
import { createRedisRevocationBus, type BusState, type RevocationEvent } from '../../auth';
import { startPrivateRedis } from '../helpers/redisServer';
import { eventually } from '../helpers/eventually';

let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
beforeAll(async () => {
  redis = await startPrivateRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const event = (n: number): RevocationEvent => ({
  kind: 'sessions',
  tenantId: 't1',
  sessionIds: [`s${n}`],
  reason: 'logout',
  at: Date.now(),
  forgetAt: Date.now() + 60_000,
});

describe('the Redis revocation bus', () => {
  it('reports live only once the replay is delivered, however long the history', async () => {
    const bus = createRedisRevocationBus({ url: redis.url, key: 'test:replay', commandTimeoutMs: 5000 });
    const writer = new Redis(redis.url);
    const pipeline = writer.pipeline();
    for (let n = 0; n < 2500; n += 1) pipeline.xadd('test:replay', '*', 'event', JSON.stringify(event(n)));
    await pipeline.exec();
    writer.disconnect();
    let received = 0;
    const atLive: number[] = [];
    const subscription = bus.subscribe(
      0,
      () => (received += 1),
      (state) => state === 'live' && atLive.push(received),
    );
    await eventually(() => atLive.length > 0, 30_000);
    expect(atLive[0]).toBe(2500);
    await subscription.close();
    await bus.close();
  });

  it('delivers, survives a dropped connection and a Redis restart without losing an event, and replays for late subscribers', async () => {
    // A generous command timeout: this test is about delivery across faults, and runs beside other suites on a busy
    // machine; the default 50 ms is the timeouts' business (slowRedis).
    const bus = createRedisRevocationBus({ url: redis.url, key: 'test:revocations', commandTimeoutMs: 2000 });
    const received: string[] = [];
    const states: BusState[] = [];
    const subscription = bus.subscribe(
      Date.now() - 1000,
      (e) => received.push(e.kind === 'sessions' ? e.sessionIds[0] : ''),
      (state) => states.push(state),
    );

    await bus.publish(event(1));
    await eventually(() => received.includes('s1'));

    // The reader's connection is killed: the event published meanwhile still arrives after the reconnect.
    const admin = new Redis(redis.url);
    const clients = (await admin.client('LIST')) as string;
    const readerId = /id=(\d+) .*name=gatehouse-revocation-reader/.exec(clients)?.[1];
    expect(readerId).toBeDefined();
    await admin.client('KILL', 'ID', readerId!);
    await bus.publish(event(2));
    await eventually(() => received.includes('s2'));
    admin.disconnect();

    // Redis itself goes away: publishing fails (the auth service's outbox keeps the event), the state says so.
    await redis.stop();
    await expect(bus.publish(event(3))).rejects.toThrow();
    await eventually(() => states.at(-1) === 'down');

    // The stream lives in Redis memory: a restart empties it. What the outbox relays after the restart still arrives.
    await redis.start();
    await eventually(() => states.at(-1) === 'live');
    await bus.publish(event(4));
    await eventually(() => received.includes('s4'));

    // A gateway that starts now replays what the stream retains.
    const late: string[] = [];
    const lateSubscription = bus.subscribe(Date.now() - 60_000, (e) => late.push(e.kind === 'sessions' ? e.sessionIds[0] : ''));
    await eventually(() => late.includes('s4'));

    await subscription.close();
    await lateSubscription.close();
    await bus.close();
  }, 30_000);

  it('trims the stream by age, never by count', async () => {
    // A generous command timeout: this test is about trimming, and 600 writes may meet a busy machine (timeouts: slowRedis).
    const bus = createRedisRevocationBus({ url: redis.url, key: 'test:trim', retentionMs: 60_000, commandTimeoutMs: 5000 });
    const client = new Redis(redis.url);
    try {
      // 300 entries from ten minutes ago (stream ids are millisecond times), then fresh ones through the bus.
      const old = Date.now() - 10 * 60_000;
      for (let i = 0; i < 300; i++) await client.xadd('test:trim', `${old}-${i + 1}`, 'event', '{}');
      for (let i = 0; i < 300; i++) await bus.publish(event(i));
      const length = await client.xlen('test:trim');
      // Trimming is approximate (~): whole radix-tree nodes go once every entry in them is past the retention.
      expect(length).toBeLessThan(600);
      expect(length).toBeGreaterThanOrEqual(300); // every recent entry stays, however many there are
      const newest = await client.xrevrange('test:trim', '+', '-', 'COUNT', 300);
      expect(newest.every(([id]) => Number(id.split('-')[0]) > old)).toBe(true);
    } finally {
      client.disconnect();
      await bus.close();
    }
  });
});
