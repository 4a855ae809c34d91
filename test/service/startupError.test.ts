import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import pg from 'pg';
import { ConfigError } from '../../subgraphs/kit/subgraphConfig';
import { MigrationError } from '../../subgraphs/kit/migrate';
import { DataDirInUseError, describeStartupFailure, type StartupContext } from '../../service/startupError';

/** The error pg gives when it connects to `url` (real errors, from the real Postgres and the real network stack). */
async function connectError(url: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => undefined);
  }
  throw new Error(`${url} accepted the connection`);
}

/** The error Node gives a server that listens on a port already taken. */
async function listenError(port: number): Promise<unknown> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', resolve);
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(new Error('listened'))));
  });
}

const listening: Server[] = [];
async function occupiedPort(): Promise<number> {
  const server = createServer();
  listening.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
afterAll(() => Promise.all(listening.map((server) => new Promise((resolve) => server.close(resolve)))));

const database = (url: string): StartupContext => ({ service: 'records', database: { variable: 'DATABASE_URL', url } });

/** One line, no stack, and none of the URL's secrets. */
function expectOneLine(line: string, secret?: string) {
  expect(line).not.toContain('\n');
  expect(line).not.toMatch(/\s+at /);
  if (secret) expect(line).not.toContain(secret);
}

describe('describeStartupFailure', () => {
  it('names the variable, the service and the missing database, never the URL or its password', async () => {
    const name = `gatehouse_missing_${randomBytes(6).toString('hex')}`;
    const url = `postgres://postgres:hunter2-secret@127.0.0.1:5432/${name}`;
    const line = describeStartupFailure(await connectError(url), database(url));
    expect(line).toBe(`records: DATABASE_URL: database "${name}" does not exist (create it first)`);
    expectOneLine(line, 'hunter2-secret');
  });

  it('names a refused login: an unknown role (trust authentication) and a wrong password', async () => {
    const url = 'postgres://nobody_x:wrong-password@127.0.0.1:5432/test';
    const line = describeStartupFailure(await connectError(url), database(url));
    expect(line).toMatch(/^records: DATABASE_URL: (role "nobody_x" does not exist|password authentication failed for user "nobody_x")$/);
    expectOneLine(line, 'wrong-password');

    // What Postgres answers under password authentication (this server trusts local logins): SQLSTATE 28P01.
    const refused = Object.assign(new pg.DatabaseError('password authentication failed for user "gatehouse_records"', 100, 'error'), {
      severity: 'FATAL',
      code: '28P01',
    });
    expect(describeStartupFailure(refused, database('postgres://gatehouse_records:pw-secret@db:5432/gatehouse'))).toBe(
      'records: DATABASE_URL: password authentication failed for user "gatehouse_records"',
    );
  });

  it('names an unreachable host by the address the URL gives, and a host that does not resolve', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const refusedUrl = `postgres://postgres:pw-secret@127.0.0.1:${port}/test`;
    expect(describeStartupFailure(await connectError(refusedUrl), database(refusedUrl))).toBe(
      `records: DATABASE_URL: cannot reach 127.0.0.1:${port} (ECONNREFUSED)`,
    );
    const unknownUrl = 'postgres://postgres@no-such-host.invalid:5432/test';
    expect(describeStartupFailure(await connectError(unknownUrl), database(unknownUrl))).toMatch(
      /^records: DATABASE_URL: cannot resolve no-such-host\.invalid \((ENOTFOUND|EAI_AGAIN)\)$/,
    );
  });

  it("names pg's failures without a code only when they are the database's: a timeout, a connection closed early", () => {
    const url = 'postgres://postgres@10.0.0.9:6432/test';
    expect(describeStartupFailure(new Error('timeout exceeded when trying to connect'), database(url))).toBe(
      'records: DATABASE_URL: cannot reach 10.0.0.9:6432 (timed out)',
    );
    expect(describeStartupFailure(new Error('Connection terminated unexpectedly'), database(url))).toBe(
      'records: DATABASE_URL: cannot reach 10.0.0.9:6432 (the connection closed before Postgres answered)',
    );
    // Without a database to blame, the same error is not an operator's: it keeps its stack.
    expect(describeStartupFailure(new Error('Connection terminated unexpectedly'), { service: 'gateway' })).toMatch(/\n\s+at /);
  });

  it('names the variable that sets a port already in use, and what else moves it', async () => {
    const port = await occupiedPort();
    const error = await listenError(port);
    expect(describeStartupFailure(error, { service: 'gateway', ports: { [port]: ['PORT'], 9400: ['METRICS_PORT'] } })).toBe(
      `gateway: PORT ${port} is already in use (is another Gatehouse running?): stop it, or set PORT`,
    );
    expect(describeStartupFailure(error, { service: 'auth', ports: { [port]: ['AUTH_METRICS_PORT', 'PORT_BASE'] } })).toBe(
      `auth: AUTH_METRICS_PORT ${port} is already in use (is another Gatehouse running?): stop it, or set AUTH_METRICS_PORT or PORT_BASE`,
    );
    expect(describeStartupFailure(error, { service: 'gateway' })).toBe(
      `gateway: port ${port} is already in use (is another Gatehouse running?): stop what holds it`,
    );
  });

  it('names a data directory another process holds', () => {
    expect(describeStartupFailure(new DataDirInUseError('.data/pglite', 4242), { service: 'npm start' })).toBe(
      'npm start: DATA_DIR: .data/pglite is in use by another Gatehouse (process 4242): stop it, or set DATA_DIR (and PORT_BASE) to run a second one',
    );
  });

  it('answers invalid configuration with its own message, and a failed migration in one line', () => {
    const config = new ConfigError('Invalid configuration for the records subgraph:\n  - PORT: Invalid input');
    expect(describeStartupFailure(config, { service: 'records' })).toBe(config.message);
    const migration = new MigrationError('Migration records/002_x.sql was changed after it was applied');
    expect(describeStartupFailure(migration, { service: 'records' })).toBe(
      'records: Migration records/002_x.sql was changed after it was applied',
    );
  });

  it('keeps the stack of an unexpected error (a bug), still without the database password', () => {
    const url = 'postgres://app:s3cret-pass@db:5432/gatehouse';
    const line = describeStartupFailure(new TypeError(`cannot read properties of undefined (${url})`), database(url));
    expect(line).toMatch(/^records: TypeError: cannot read properties of undefined/);
    expect(line).toMatch(/\n\s+at /);
    expect(line).not.toContain('s3cret-pass');
  });
});
