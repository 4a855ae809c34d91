import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { postGraphQL } from '../helpers/stack';

const root = resolve(__dirname, '../..');
let child: ChildProcess;
let dataDir: string;
let output = '';

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await rm(dataDir, { recursive: true, force: true });
});

it('npm start serves the whole stack on the embedded defaults: log in, then a cross-subgraph query', async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-start-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  for (const name of ['GATEWAY', 'AUTH', 'USERS', 'RECORDS', 'COMPLAINTS']) env[`${name}_PORT`] = env[`${name}_METRICS_PORT`] = '0';
  // No DATABASE_URL: the embedded Postgres, as on a fresh machine.
  child = spawn(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'scripts/start.ts')], { cwd: root, env });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));

  const gatewayUrl = await new Promise<string>((resolveUrl, reject) => {
    const fail = (why: string) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`${why}:\n${output}`));
    };
    child!.once('exit', (code) => fail(`npm start exited (${code})`));
    const timer = setTimeout(() => fail('no gateway URL in time'), 45_000);
    const poll = setInterval(() => {
      const match = /GraphQL gateway\s+(http:\/\/\S+\/graphql)/.exec(output);
      if (match) {
        clearInterval(poll);
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    }, 100);
  });
  expect(output).toContain('member@acme.example');
  expect(output).toContain('gatehouse-demo');

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
  expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/); // no token in the logs

  // Metrics: five ports of their own, none of them the public one.
  const metricsUrls = /Metrics\s+(.+)/.exec(output)![1].trim().split(/\s+/);
  expect(metricsUrls).toHaveLength(5);
  for (const url of metricsUrls) expect(await (await fetch(url)).text()).toContain('process_cpu_seconds_total');
  expect((await fetch(gatewayUrl.replace('/graphql', '/metrics'))).status).toBe(404);
}, 60_000);
