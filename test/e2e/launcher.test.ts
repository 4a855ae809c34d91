import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GATEWAY_URL_LINE, launcherEnv, spawnService, type SpawnedService } from '../helpers/spawnService';
import { postGraphQL } from '../helpers/stack';

let service: SpawnedService | undefined;
let dataDir: string;

afterAll(async () => {
  await service?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

it('npm start serves the whole stack on the embedded defaults: log in, then a cross-subgraph query', async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-start-'));
  // No DATABASE_URL: the embedded Postgres, as on a fresh machine.
  service = spawnService('scripts/start.ts', { env: launcherEnv(dataDir, ['AUTH', 'USERS', 'RECORDS', 'COMPLAINTS']) });
  const [, gatewayUrl] = await service.waitFor(GATEWAY_URL_LINE, 45_000);
  const output = service.output();
  expect(output).toContain('member@acme.example');
  expect(output).toContain('gatehouse-demo');
  // Each subgraph by name, with the address it serves on.
  for (const name of ['auth', 'users', 'records', 'complaints'])
    expect(output).toMatch(new RegExp(`${name} subgraph +http://\\S+/graphql`));

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

  // Metrics: five ports of their own, none of them the public one.
  const metricsUrls = /Metrics\s+(.+)/.exec(output)![1].trim().split(/\s+/);
  expect(metricsUrls).toHaveLength(5);
  for (const url of metricsUrls) expect(await (await fetch(url)).text()).toContain('process_cpu_seconds_total');
  expect((await fetch(gatewayUrl.replace('/graphql', '/metrics'))).status).toBe(404);
}, 60_000);
