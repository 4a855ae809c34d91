import { connect, createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createRedisHealth } from '../../service/redisHealth';
import { eventually } from '../helpers/eventually';
import { redisForTest } from '../helpers/redisServer';

/**
 * A Redis connection problem is never swallowed: it is logged (the first at once, then at most one line per interval,
 * never a secret), counted in gatehouse_redis_connection_errors_total, and named by degraded() until the client is back.
 */
let target: Awaited<ReturnType<typeof redisForTest>>;
const clients: Redis[] = [];
beforeAll(async () => {
  target = await redisForTest();
});
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await target?.release();
});

function recordingLog() {
  const lines: Array<{ level: 'warn' | 'info'; details: Record<string, unknown>; message: string }> = [];
  return {
    lines,
    log: {
      warn: (details: object, message: string) => lines.push({ level: 'warn', details: details as Record<string, unknown>, message }),
      info: (details: object, message: string) => lines.push({ level: 'info', details: details as Record<string, unknown>, message }),
    },
  };
}

/** A port that refuses connections until `open()`, then forwards them to the real Redis. */
async function switchablePort() {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return {
    port,
    async open() {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        sockets.add(client).add(upstream);
        client.on('error', () => upstream.destroy()).on('close', () => upstream.destroy());
        upstream.on('error', () => client.destroy()).on('close', () => client.destroy());
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    },
    async close() {
      sockets.forEach((socket) => socket.destroy());
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}

const errorCount = async (registry: Registry, client: string) =>
  (await registry.getSingleMetric('gatehouse_redis_connection_errors_total')!.get()).values.find((value) => value.labels.client === client)
    ?.value ?? 0;

it('logs an unreachable Redis once, then at most once per interval, counts every failure, and says when it is back', async () => {
  let clock = 0;
  const health = createRedisHealth({ logEveryMs: 60_000, now: () => clock });
  const { lines, log } = recordingLog();
  const registry = new Registry();
  health.bind({ log, registry });
  const port = await switchablePort();
  const redis = new Redis({
    host: '127.0.0.1',
    port: port.port,
    retryStrategy: () => 20,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  clients.push(redis);
  health.watch(redis, 'rate_limits');

  await eventually(async () => (await errorCount(registry, 'rate_limits')) >= 5, 30_000);
  expect(health.degraded()).toEqual(['rate_limits']);
  expect(lines).toEqual([
    {
      level: 'warn',
      details: expect.objectContaining({ client: 'rate_limits', code: 'ECONNREFUSED' }),
      message: 'redis connection failed; degraded until it is back',
    },
  ]);

  clock += 60_000;
  await eventually(() => lines.length === 2, 30_000);
  expect(lines[1]).toEqual({
    level: 'warn',
    details: expect.objectContaining({ client: 'rate_limits', errorsSinceLastLine: expect.any(Number) }),
    message: 'redis connection still failing',
  });

  await port.open();
  await eventually(() => health.degraded().length === 0, 30_000);
  expect(lines.at(-1)).toEqual({
    level: 'info',
    details: expect.objectContaining({ client: 'rate_limits', errors: expect.any(Number) }),
    message: 'redis connection back',
  });
  redis.disconnect();
  await port.close();
});

it('logs a refused login without the password', async () => {
  const health = createRedisHealth();
  const { lines, log } = recordingLog();
  const registry = new Registry();
  health.bind({ log, registry });
  const redis = new Redis(`redis://nobody:sekret-pass-4711@${target.host}:${target.port}`, {
    retryStrategy: () => 50,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  clients.push(redis);
  health.watch(redis, 'login_throttle');
  await eventually(() => lines.length > 0, 30_000);
  expect(lines[0]).toEqual({
    level: 'warn',
    details: expect.objectContaining({ client: 'login_throttle', error: expect.stringMatching(/WRONGPASS|NOAUTH|invalid/i) }),
    message: 'redis connection failed; degraded until it is back',
  });
  expect(JSON.stringify(lines)).not.toContain('sekret-pass-4711');
  expect(await errorCount(registry, 'login_throttle')).toBeGreaterThanOrEqual(1);
  expect(health.degraded()).toEqual(['login_throttle']);
  redis.disconnect();
});

it('counts what failed before it was bound to a logger, and logs it when bound', async () => {
  const health = createRedisHealth();
  const redis = new Redis({ host: '127.0.0.1', port: (await switchablePort()).port, retryStrategy: () => 20, maxRetriesPerRequest: 0 });
  clients.push(redis);
  health.watch(redis, 'events_writer');
  await eventually(() => health.degraded().length === 1, 30_000);
  const { lines, log } = recordingLog();
  const registry = new Registry();
  health.bind({ log, registry });
  expect(lines.map((line) => line.message)).toEqual(['redis connection failed; degraded until it is back']);
  expect(await errorCount(registry, 'events_writer')).toBeGreaterThanOrEqual(1);
  redis.disconnect();
});
