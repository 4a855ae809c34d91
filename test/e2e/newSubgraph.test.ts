import { execFile, execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DEMO_TOTP_SECRET } from '../../subgraphs/auth/data/seed';
import { findFreePortBase } from '../helpers/ports';
import { GATEWAY_URL_LINE, spawnService, type SpawnedService } from '../helpers/spawnService';
import { nextTotpCode, postGraphQL } from '../helpers/stack';

/**
 * A new team's path, in a copy of the repository: scaffold a fifth subgraph, add a field with a scope and one without
 * any requirement, let schema:check refuse it, fix it, and serve it with npm start behind the gateway.
 */
const root = resolve(__dirname, '../..');
const run = promisify(execFile);
let copy: string;
let service: SpawnedService | undefined;

/** Runs an npm script of the copy the way a team would (npm run …), and answers its exit code and output. */
const npmRun = (...args: string[]) =>
  run('npm', ['run', '--silent', ...args], { cwd: copy, env: { ...process.env, NODE_OPTIONS: '' } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=ci@example.com', '-c', 'user.name=ci', ...args], { cwd: copy, encoding: 'utf8' });

beforeAll(async () => {
  copy = await mkdtemp(join(tmpdir(), 'gatehouse-new-subgraph-'));
  const files = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const file of files) {
    await mkdir(dirname(join(copy, file)), { recursive: true });
    await copyFile(join(root, file), join(copy, file));
  }
  await symlink(join(root, 'node_modules'), join(copy, 'node_modules'));
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'base');
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await rm(copy, { recursive: true, force: true });
});

it('scaffolds, checks and serves a fifth subgraph, changing only supergraph.yaml, roles.yaml and the supergraph outside its folder', async () => {
  const created = await npmRun('subgraph:new', '--', 'invoices');
  expect(created).toMatchObject({ code: 0 });
  // The next steps name its variables: the port after the others', and its metrics port.
  expect(created.stdout).toContain('INVOICES_PORT (default 4005) and INVOICES_METRICS_PORT (default 9405)');
  expect(created.stdout).toContain('PORT_BASE + 5 and PORT_BASE + 5405');

  // One field with a scope, one without any requirement.
  const schemaFile = join(copy, 'subgraphs/invoices/schema.graphql');
  const sdl = await readFile(schemaFile, 'utf8');
  await writeFile(
    schemaFile,
    sdl.replace(
      '  title: String! @requiresScopes(scopes: [["invoices:read"]])\n',
      '$&  amount: Int @requiresScopes(scopes: [["invoices:write"]])\n  note: String\n',
    ),
  );
  const resolversFile = join(copy, 'subgraphs/invoices/resolvers.ts');
  await writeFile(
    resolversFile,
    (await readFile(resolversFile, 'utf8')).replace(
      '    createdBy:',
      '    amount: (row: data.InvoiceRow) => row.title.length,\n    note: () => "a note",\n    createdBy:',
    ),
  );
  // Both compose and the check refuse the field without a requirement, where it is, and only that one.
  const unruled = /subgraphs\/invoices\/schema\.graphql:\d+:\d+: Invoice\.note has no authorization requirement/;
  for (const refused of [await npmRun('compose'), await npmRun('schema:check')]) {
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(unruled);
    expect(refused.stderr).not.toMatch(/Invoice\.amount has no authorization requirement/);
  }

  await writeFile(
    schemaFile,
    (await readFile(schemaFile, 'utf8')).replace('  note: String\n', '  note: String @requiresScopes(scopes: [["invoices:read"]])\n'),
  );
  expect(await npmRun('compose')).toMatchObject({ code: 0 });
  expect(await npmRun('docs')).toMatchObject({ code: 0 });
  expect(await npmRun('schema:check')).toMatchObject({ code: 0 });

  const changed = git('status', '--porcelain', '--untracked-files=all')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(3))
    .filter((file) => !file.startsWith('subgraphs/invoices/'));
  expect(changed.sort()).toEqual(['roles.yaml', 'supergraph.graphql', 'supergraph.yaml']);

  // npm start serves it: the embedded defaults, every port moved by PORT_BASE, the new subgraph's after the others'.
  const base = await findFreePortBase([0, 1, 2, 3, 4, 5].flatMap((offset) => [offset, offset + 5400]));
  service = spawnService('scripts/start.ts', {
    cwd: copy,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: join(copy, '.data'), LOG_LEVEL: 'warn', PORT_BASE: String(base) },
  });
  const [, gatewayUrl] = await service.waitFor(GATEWAY_URL_LINE, 120_000);
  expect(service.output().match(/\w+ subgraph +http:/g)).toHaveLength(5);
  expect(service.output()).toMatch(new RegExp(`invoices subgraph +http://127\\.0\\.0\\.1:${base + 5}/graphql`));
  expect(service.output()).toContain(`http://127.0.0.1:${base + 5405}/metrics`);

  const login = async (email: string, tenant: string) => {
    const result = await postGraphQL(
      gatewayUrl,
      `mutation { login(input: {email: "${email}", password: "gatehouse-demo", tenant: "${tenant}"}) { __typename ... on AuthSession { accessToken } ... on TwoFactorChallenge { challengeId } } }`,
    );
    const answer = result.body.data.login;
    if (answer.__typename === 'AuthSession') return answer.accessToken as string;
    const code = await nextTotpCode(`new-subgraph:${tenant}:${email}`, DEMO_TOTP_SECRET);
    const verified = await postGraphQL(
      gatewayUrl,
      `mutation { verifyLoginCode(challengeId: "${answer.challengeId}", code: "${code}") { accessToken } }`,
    );
    return verified.body.data.verifyLoginCode.accessToken as string;
  };
  const query = '{ invoices(first: 5) { nodes { title amount note } } }';

  const member = await postGraphQL(gatewayUrl, query, { token: await login('member@acme.example', 'acme') });
  expect(member.body.data.invoices.nodes).toEqual([{ title: 'First invoice of Acme Corporation', amount: null, note: 'a note' }]);
  expect(member.body.errors).toEqual([
    expect.objectContaining({ path: ['invoices', 'nodes', 0, 'amount'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) }),
  ]);
  const write = await postGraphQL(gatewayUrl, 'mutation { createInvoice(title: "mine") { id } }', {
    token: await login('member@acme.example', 'acme'),
  });
  expect(write.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');

  const admin = await postGraphQL(gatewayUrl, query, { token: await login('admin@acme.example', 'acme') });
  expect(admin.body.errors).toBeUndefined();
  expect(admin.body.data.invoices.nodes).toEqual([{ title: 'First invoice of Acme Corporation', amount: 33, note: 'a note' }]);

  // Tenant isolation: another tenant's admin sees only their own tenant's row.
  const globex = await postGraphQL(gatewayUrl, query, { token: await login('admin@globex.example', 'globex') });
  expect(globex.body.data.invoices.nodes).toEqual([{ title: 'First invoice of Globex Corporation', amount: 35, note: 'a note' }]);
  const anonymous = await postGraphQL(gatewayUrl, query);
  expect(anonymous.body.data).toEqual({ invoices: null });
  expect(anonymous.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
}, 240_000);
