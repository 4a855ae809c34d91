import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * A private redis-server for tests that stop and restart Redis (the shared one of REDIS_URL must not be stopped).
 * Needs the redis-server binary, which this machine kind and CI have.
 */
export async function startPrivateRedis() {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  async function start() {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    throw new Error('redis-server did not start');
  }
  async function stop() {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  await start();
  return { url, start, stop };
}

/**
 * The Redis a test may use as it is (never stopping it): REDIS_URL's, or a private one started here. Resolves with
 * its host and port and a `release` that stops only what it started.
 */
export async function redisForTest(): Promise<{ host: string; port: number; release(): Promise<void> }> {
  const privateRedis = process.env.REDIS_URL ? undefined : await startPrivateRedis();
  const { hostname, port } = new URL(process.env.REDIS_URL ?? privateRedis!.url);
  return { host: hostname, port: Number(port || 6379), release: async () => privateRedis?.stop() };
}
