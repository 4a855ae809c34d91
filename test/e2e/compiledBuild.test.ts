import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { eventually } from '../helpers/eventually';
import { spawnService, type SpawnedService } from '../helpers/spawnService';
import { postGraphQL } from '../helpers/stack';

/**
 * What ships is the compiled build: `npm run build` writes JavaScript to dist/, and the gateway and the subgraphs run
 * from it with plain node, laid out as in the image: dist/, the production dependencies installed from the lock
 * (npm ci --omit=dev), package.json, supergraph.graphql and roles.yaml. COMPILED_NODE names another node binary to
 * run them with (the image's Node.js version, say).
 */
const root = resolve(__dirname, '../..');
const node = process.env.COMPILED_NODE ?? process.execPath;
let work: string;
const services: SpawnedService[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'gatehouse-build-'));
  execFileSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/build.ts', '--out-dir', join(work, 'dist')], {
    cwd: root,
    stdio: 'pipe',
  });
  for (const file of ['package.json', 'package-lock.json', 'supergraph.graphql', 'roles.yaml'])
    await copyFile(join(root, file), join(work, file));
  execFileSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: work,
    stdio: 'pipe',
  });
}, 240_000);

afterAll(async () => {
  for (const service of services.reverse()) await service.stop();
  await rm(work, { recursive: true, force: true });
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

it('compiles every service to JavaScript, with the schemas and migrations beside it and no TypeScript', async () => {
  const files = await filesUnder(join(work, 'dist'));
  expect(files.filter((file) => extname(file) === '.ts')).toEqual([]);
  for (const entry of ['gateway/main.js', 'subgraphs/auth/main.js', 'subgraphs/users/main.js', 'subgraphs/records/main.js'])
    expect(files).toContain(join(work, 'dist', entry));
  expect(files).toContain(join(work, 'dist/subgraphs/users/schema.graphql'));
  expect(files.some((file) => file.startsWith(join(work, 'dist/subgraphs/auth/migrations/')) && file.endsWith('.sql'))).toBe(true);
  // Development code and development dependencies do not ship.
  expect(existsSync(join(work, 'node_modules/typescript'))).toBe(false);
  expect(existsSync(join(work, 'node_modules/tsx'))).toBe(false);
  expect(files.some((file) => file.includes('/test/') || file.includes('/scripts/') || file.endsWith('.test.js'))).toBe(false);
});

it('the compiled gateway and subgraphs, run with plain node on production dependencies, answer a sign-in and a query across two subgraphs', async () => {
  // One data directory: the development context secret the gateway and the subgraphs derive their keys from.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: join(work, 'data'),
    PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  };
  const start = async (name: string, entry: string, extra: NodeJS.ProcessEnv = {}) => {
    const service = spawnService(entry, { cwd: work, env: { ...env, ...extra }, node });
    services.push(service);
    const [, url] = await service.waitFor(new RegExp(`${name} ready at (\\S+/graphql)`), 60_000);
    return url;
  };
  const authUrl = await start('auth subgraph', 'dist/subgraphs/auth/main.js');
  const usersUrl = await start('users subgraph', 'dist/subgraphs/users/main.js');
  const gatewayUrl = await start('gateway', 'dist/gateway/main.js', {
    AUTH_JWKS_URL: authUrl.replace('/graphql', '/.well-known/jwks.json'),
    SUBGRAPH_AUTH_URL: authUrl,
    SUBGRAPH_USERS_URL: usersUrl,
  });
  await eventually(async () => (await fetch(gatewayUrl.replace('/graphql', '/health/ready'))).ok, 30_000, 200);

  const login = await postGraphQL(
    gatewayUrl,
    'mutation { login(input: {email: "member@acme.example", password: "gatehouse-demo", tenant: "acme"}) { ... on AuthSession { accessToken } } }',
  );
  const token: string = login.body.data.login.accessToken;
  const viewer = await postGraphQL(gatewayUrl, '{ viewer { user { id roles displayName email } } }', { token });
  expect(viewer.body.errors).toBeUndefined();
  expect(viewer.body.data.viewer.user).toMatchObject({ roles: ['MEMBER'], displayName: 'Acme Member', email: 'member@acme.example' });
}, 120_000);
