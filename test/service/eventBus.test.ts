import { Redis } from 'ioredis';
import { createMemoryEventBus, createRedisEventBus, decodeLiveEvent, type EventBusState, type LiveEvent } from '../../service/eventBus';
import { eventually } from '../helpers/eventually';
import { startPrivateRedis } from '../helpers/redisServer';

let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
beforeAll(async () => {
  redis = await startPrivateRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const event = (id: string): LiveEvent => ({
  topic: 'complaints',
  id,
  tenantId: 't1',
  audience: { userIds: ['u1'], scope: 'complaint:read:all' },
  change: 'FILED',
  at: Date.now(),
});

describe('the Redis event bus', () => {
  it('starts at the newest entry, and after a dropped connection delivers what was published meanwhile', async () => {
    const bus = createRedisEventBus({ url: redis.url, key: 'test:events', commandTimeoutMs: 2000 });
    await bus.publish(event('before'));
    const received: string[] = [];
    const states: EventBusState[] = [];
    const subscription = bus.subscribe(
      (e) => received.push(e.id),
      (state) => states.push(state),
    );
    await eventually(() => states.includes('live'));
    await bus.publish(event('e1'));
    await eventually(() => received.includes('e1'));

    // The reader's connection is killed, and an event published before it is back: it arrives once it is.
    const admin = new Redis(redis.url);
    const readerId = /id=(\d+) .*name=gatehouse-event-reader/.exec((await admin.client('LIST')) as string)?.[1];
    expect(readerId).toBeDefined();
    await admin.client('KILL', 'ID', readerId!);
    await bus.publish(event('e2'));
    await eventually(() => received.includes('e2'));
    admin.disconnect();

    // What was there before it subscribed is not replayed; nothing arrives twice.
    expect(received).toEqual(['e1', 'e2']);
    await subscription.close();
    await bus.close();
  }, 30_000);

  it('fails a publish while Redis is down (the publisher retries), and reports the bus down', async () => {
    const bus = createRedisEventBus({ url: redis.url, key: 'test:events-down', commandTimeoutMs: 2000 });
    const states: EventBusState[] = [];
    const subscription = bus.subscribe(
      () => undefined,
      (state) => states.push(state),
    );
    await eventually(() => states.includes('live'));
    await redis.stop();
    await expect(bus.publish(event('lost'))).rejects.toThrow();
    await eventually(() => states.at(-1) === 'down');
    await redis.start();
    await eventually(() => states.at(-1) === 'live');
    await subscription.close();
    await bus.close();
  }, 30_000);
});

describe('the in-memory event bus and the wire format', () => {
  it('gives each listener its own copy', async () => {
    const bus = createMemoryEventBus();
    const seen: LiveEvent[] = [];
    bus.subscribe((e) => seen.push(e));
    bus.subscribe((e) => seen.push(e));
    await bus.publish(event('x'));
    expect(seen).toHaveLength(2);
    seen[0].audience.userIds.push('intruder');
    expect(seen[1].audience.userIds).toEqual(['u1']);
  });

  it('refuses malformed events', () => {
    expect(decodeLiveEvent(JSON.stringify(event('ok')))).toMatchObject({ id: 'ok' });
    expect(decodeLiveEvent('not json')).toBeUndefined();
    expect(decodeLiveEvent(JSON.stringify({ ...event('x'), tenantId: '' }))).toBeUndefined();
    expect(decodeLiveEvent(JSON.stringify({ ...event('x'), audience: { userIds: [42] } }))).toBeUndefined();
    expect(decodeLiveEvent(JSON.stringify({ ...event('x'), at: 'now' }))).toBeUndefined();
  });
});
