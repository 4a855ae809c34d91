import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { composeSupergraph } from '../../scripts/composition';

const root = resolve(__dirname, '../..');
const configPath = join(root, 'supergraph.yaml');
const run = promisify(execFile);

describe('composition', () => {
  it('composes the four subgraphs into exactly the committed supergraph.graphql', async () => {
    const result = await composeSupergraph(configPath);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.supergraphSdl).toBe(await readFile(join(root, 'supergraph.graphql'), 'utf8'));
    for (const name of ['AUTH', 'USERS', 'RECORDS', 'COMPLAINTS']) expect(result.supergraphSdl).toContain(`${name} @join__graph`);
  });

  it('names the file, line and column of a schema that does not parse, on one line', async () => {
    const result = await composeSupergraph(configPath, { records: 'type Query {\n  record(id: ID!): Record\n' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toBe('subgraphs/records/schema.graphql:3:1: Syntax Error: Expected Name, found <EOF>.');
  });

  it('names the subgraphs in conflict when composition fails', async () => {
    const records = (await readFile(join(root, 'subgraphs/records/schema.graphql'), 'utf8')).replace(
      'hasNextPage: Boolean!',
      'hasNextPage: String',
    );
    const result = await composeSupergraph(configPath, { records });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.join('\n')).toMatch(/"records"/);
    expect(result.errors.join('\n')).toMatch(/PageInfo\.hasNextPage/);
  });

  describe('npm run schema:check', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'gatehouse-compose-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    const check = (config: string) =>
      run(
        process.execPath,
        [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'scripts/compose.ts'), '--check', '--config', config],
        {
          cwd: root,
        },
      ).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
      );

    it('passes on main', async () => {
      const result = await check(configPath);
      expect(result).toMatchObject({ code: 0 });
      expect(result.stdout).toContain('Composition OK');
    });

    it('fails with a readable message on a broken subgraph schema', async () => {
      const broken = join(dir, 'users.graphql');
      await writeFile(
        broken,
        (await readFile(join(root, 'subgraphs/users/schema.graphql'), 'utf8')).replace('displayName: String!', 'displayName: Strin!'),
      );
      const config = join(dir, 'supergraph.yaml');
      await writeFile(
        config,
        (await readFile(configPath, 'utf8'))
          .replace('./subgraphs/users/schema.graphql', broken)
          .replace(/\.\/subgraphs\//g, `${root}/subgraphs/`),
      );
      const result = await check(config);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Composition failed');
      expect(result.stderr).toMatch(/subgraph "users".*Strin/);
    });

    it('prints file:line:column and the message for an SDL typo, without a stack, and exits 1', async () => {
      const typo = join(dir, 'typo', 'subgraphs', 'users');
      await mkdir(typo, { recursive: true });
      await writeFile(
        join(typo, 'schema.graphql'),
        (await readFile(join(root, 'subgraphs/users/schema.graphql'), 'utf8')).replace(
          'type Tenant @authenticated {',
          'type Tenant @authenticated {{',
        ),
      );
      const config = join(dir, 'typo', 'supergraph.yaml');
      await writeFile(config, (await readFile(configPath, 'utf8')).replace(/\.\/subgraphs\/(?!users)/g, `${root}/subgraphs/`));
      const result = await run(
        process.execPath,
        [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'scripts/compose.ts'), '--check', '--config', config],
        {
          cwd: join(dir, 'typo'),
        },
      ).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
      );
      expect(result.code).toBe(1);
      const line =
        (await readFile(join(root, 'subgraphs/users/schema.graphql'), 'utf8'))
          .split('\n')
          .findIndex((text) => text.startsWith('type Tenant')) + 1;
      expect(result.stderr).toContain(`subgraphs/users/schema.graphql:${line}:29: Syntax Error: Expected Name, found "{".`);
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });

    it('fails when the committed supergraph is stale', async () => {
      const config = join(dir, 'stale.yaml');
      await writeFile(config, (await readFile(configPath, 'utf8')).replace(/\.\/subgraphs\//g, `${root}/subgraphs/`));
      await copyFile(join(root, 'roles.yaml'), join(dir, 'roles.yaml'));
      await mkdir(join(dir, 'docs'), { recursive: true });
      await copyFile(join(root, 'docs/permissions.md'), join(dir, 'docs/permissions.md'));
      await writeFile(join(dir, 'supergraph.graphql'), 'schema { query: Query }\n');
      const result = await check(config);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('supergraph.graphql is stale');
    });
  });
});
