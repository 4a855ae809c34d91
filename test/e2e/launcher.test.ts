import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSupergraphConfig } from '../../scripts/composition';
import { findFreePortBase, listeningPorts } from '../helpers/ports';
import { GATEWAY_URL_LINE, spawnService, type SpawnedService } from '../helpers/spawnService';
import { postGraphQL } from '../helpers/stack';

let service: SpawnedService | undefined;
let dataDir: string;
let otherDir: string | undefined;

afterAll(async () => {
  await service?.stop();
  await rm(dataDir, { recursive: true, force: true });
  if (otherDir) await rm(otherDir, { recursive: true, force: true });
});

// Every service of the stack in supergraph.yaml's order, after the gateway; metrics 5400 above each.
const names = readSupergraphConfig().map((entry) => entry.name);
const offsets = [0, ...names.map((_, index) => index + 1)];
const DEFAULT_PORTS = [...offsets.map((offset) => 4000 + offset), ...offsets.map((offset) => 9400 + offset)];
let base: number;
const env = () => ({ PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, LOG_LEVEL: 'warn', PORT_BASE: String(base) });

it('npm start serves the whole stack on the embedded defaults, PORT_BASE moving every port: log in, then a cross-subgraph query', async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-start-'));
  base = await findFreePortBase([...offsets, ...offsets.map((offset) => offset + 5400)]);
  // No DATABASE_URL: the embedded Postgres, as on a fresh machine. PORT_BASE alone moves every port.
  service = spawnService('scripts/start.ts', { env: env() });
  const [, gatewayUrl] = await service.waitFor(GATEWAY_URL_LINE, 120_000);
  const output = service.output();
  expect(output).toContain('member@acme.example');
  expect(output).toContain('gatehouse-demo');
  // Each subgraph by name, with the address it serves on: PORT_BASE + its place in supergraph.yaml.
  expect(new URL(gatewayUrl).port).toBe(String(base));
  names.forEach((name, index) =>
    expect(output).toMatch(new RegExp(`${name} subgraph +http://127\\.0\\.0\\.1:${base + index + 1}/graphql`)),
  );

  const login = await postGraphQL(
    gatewayUrl,
    'mutation { login(input: {email: "member@acme.example", password: "gatehouse-demo", tenant: "acme"}) { ... on AuthSession { accessToken tokenType expiresIn } } }',
  );
  expect(login.body.data.login).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
  const result = await postGraphQL(
    gatewayUrl,
    '{ complaint(id: "00000001-0002-4000-8000-000000000001") { subject filedBy { displayName records { nodes { title owner { displayName } } } } } }',
    { token: login.body.data.login.accessToken },
  );
  expect(result.body.errors).toBeUndefined();
  expect(result.body.data.complaint.filedBy.displayName).toBe('Acme Member');
  expect(result.body.data.complaint.filedBy.records.nodes[0].owner.displayName).toBe('Acme Member');
  expect(service.output()).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/); // no token in the logs

  // Metrics: a port of their own each, none of them the public one, in a range of their own: PORT_BASE + 5400 and up.
  const metricsUrls = /Metrics\s+(.+)/.exec(output)![1].trim().split(/\s+/);
  expect(metricsUrls.map((url) => Number(new URL(url).port))).toEqual(offsets.map((offset) => base + 5400 + offset));
  for (const url of metricsUrls) expect(await (await fetch(url)).text()).toContain('process_cpu_seconds_total');
  expect((await fetch(gatewayUrl.replace('/graphql', '/metrics'))).status).toBe(404);

  // The stack listens on these ports and on no other: nothing is left on the defaults.
  const listening = listeningPorts(service.child.pid!);
  expect(listening).toEqual([...offsets.map((offset) => base + offset), ...offsets.map((offset) => base + 5400 + offset)]);
  for (const port of DEFAULT_PORTS) expect(listening).not.toContain(port);
}, 180_000);

it('a second npm start while one runs exits 1 with one line: the data directory, or the port, and what moves it', async () => {
  // The same directory: refused before the embedded Postgres opens the files the first one is using.
  const same = spawnService('scripts/start.ts', { env: env() });
  expect(await same.exit().finally(() => same.stop())).toBe(1);
  const dir = join(dataDir, 'pglite').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  expect(same.errors().trimEnd().split('\n')).toEqual([
    expect.stringMatching(
      new RegExp(`^npm start: DATA_DIR: ${dir} is in use by another Gatehouse \\(process \\d+\\): stop it, or set DATA_DIR`),
    ),
  ]);

  // Another directory, the same ports: the first port it listens on is taken.
  otherDir = await mkdtemp(join(tmpdir(), 'gatehouse-start-second-'));
  const other = spawnService('scripts/start.ts', { env: { ...env(), DATA_DIR: otherDir } });
  expect(await other.exit(120_000).finally(() => other.stop())).toBe(1);
  const [first] = names;
  const variable = `${first.toUpperCase()}_METRICS_PORT`;
  expect(other.errors().trimEnd().split('\n')).toEqual([
    `${first}: ${variable} ${base + 5401} is already in use (is another Gatehouse running?): stop it, or set ${variable} or PORT_BASE`,
  ]);
  // The first stack still serves.
  expect((await fetch(`http://127.0.0.1:${base}/health/ready`)).status).toBe(200);
}, 180_000);
