import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnService } from '../helpers/spawnService';

/**
 * An operator's mistake, as each deployable meets it at start-up: exit 1 and one line on stderr naming the service,
 * the variable to change and the cause; no stack, and never the database URL's password.
 */
let dataDir: string;
let occupied: Server | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-startup-errors-'));
});
afterAll(async () => {
  await new Promise((resolve) => (occupied ? occupied.close(resolve) : resolve(undefined)));
  await rm(dataDir, { recursive: true, force: true });
});

/** Starts `entry` with `env` (ports chosen by the system unless given) and answers its exit code and stderr lines. */
async function start(entry: string, env: Record<string, string>) {
  const service = spawnService(entry, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, LOG_LEVEL: 'warn', PORT: '0', METRICS_PORT: '0', ...env },
  });
  // Stopped in any case: a process that starts where it should have refused must not outlive the test.
  const code = await service.exit(90_000).finally(() => service.stop());
  const lines = service.errors().trimEnd().split('\n');
  for (const line of lines) expect(line).not.toMatch(/^\s+at /);
  return { code, lines };
}

async function occupy(): Promise<number> {
  occupied = createServer();
  await new Promise<void>((resolve) => occupied!.listen(0, '127.0.0.1', resolve));
  return (occupied.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

it('a subgraph whose DATABASE_URL names a database that does not exist says so in one line, without the password', async () => {
  const name = `gatehouse_missing_${randomBytes(6).toString('hex')}`;
  const { code, lines } = await start('subgraphs/records/main.ts', {
    DATABASE_URL: `postgres://postgres:never-printed-secret@127.0.0.1:5432/${name}`,
  });
  expect(code).toBe(1);
  expect(lines).toEqual([`records: DATABASE_URL: database "${name}" does not exist (create it first)`]);
}, 120_000);

it('a subgraph whose login Postgres refuses names DATABASE_URL and the refusal', async () => {
  const { code, lines } = await start('subgraphs/auth/main.ts', { DATABASE_URL: 'postgres://nobody_x:wrong@127.0.0.1:5432/test' });
  expect(code).toBe(1);
  // Trust authentication refuses the unknown role; password authentication, the password.
  expect(lines).toEqual([
    expect.stringMatching(/^auth: DATABASE_URL: (role "nobody_x" does not exist|password authentication failed for user "nobody_x")$/),
  ]);
  expect(lines[0]).not.toContain('wrong');
}, 120_000);

it('a subgraph whose database host does not answer names DATABASE_URL and the address', async () => {
  const port = await freePort();
  const { code, lines } = await start('subgraphs/users/main.ts', { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test` });
  expect(code).toBe(1);
  expect(lines).toEqual([`users: DATABASE_URL: cannot reach 127.0.0.1:${port} (ECONNREFUSED)`]);
}, 120_000);

it('a gateway whose PORT is taken names PORT', async () => {
  const port = await occupy();
  const { code, lines } = await start('gateway/main.ts', { PORT: String(port) });
  expect(code).toBe(1);
  expect(lines).toEqual([`gateway: PORT ${port} is already in use (is another Gatehouse running?): stop it, or set PORT`]);
}, 120_000);

it('a subgraph whose METRICS_PORT is taken names METRICS_PORT', async () => {
  const port = (occupied!.address() as AddressInfo).port;
  // The embedded database: the subgraph migrates it, then fails to listen.
  const { code, lines } = await start('subgraphs/complaints/main.ts', { METRICS_PORT: String(port) });
  expect(code).toBe(1);
  expect(lines).toEqual([
    `complaints: METRICS_PORT ${port} is already in use (is another Gatehouse running?): stop it, or set METRICS_PORT`,
  ]);
}, 120_000);

it('a subgraph started twice on one DATA_DIR refuses the second in one line, before opening its files', async () => {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, LOG_LEVEL: 'info', PORT: '0', METRICS_PORT: '0' };
  const first = spawnService('subgraphs/users/main.ts', { env });
  try {
    await first.waitFor(/users subgraph ready at/, 90_000);
    const { code, lines } = await start('subgraphs/users/main.ts', {});
    expect(code).toBe(1);
    const dir = join(dataDir, 'pglite-users');
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(`^users: DATA_DIR: ${dir} is in use by another Gatehouse \\(process \\d+\\): stop it, or set DATA_DIR`),
      ),
    ]);
  } finally {
    await first.stop();
  }
}, 180_000);
