import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeSchemaTree, policiesModule, positionOf, root, runCompose, sdlOf } from './schemaTree';

const TITLE = 'title: String! @requiresScopes(scopes: [["record:read"]])';
const RECORDS = 'subgraphs/records/schema.graphql';
const dirs: string[] = [];
/** A copy of the repository's schemas with these edits, removed after the file's tests. */
const tree = async (edits: Record<string, string> = {}) => {
  const dir = await makeSchemaTree(edits);
  dirs.push(dir);
  return dir;
};
const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

describe('npm run schema:check', () => {
  it('passes on the repository', async () => {
    const result = await runCompose(['--check'], root);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('Composition OK');
  });

  it('names every problem of every subgraph at file:line:column in one run, without a stack, and exits 1', async () => {
    const users = (await sdlOf('users')).replace('type Tenant @authenticated {', 'type Tenant @authenticated {{');
    const records = (await sdlOf('records')).replace(
      TITLE,
      '$&\n  secretScore: Int\n  amountCents: Int! @policy(policies: [["owner"]])\n  notes: String @policy(policies: [["author"]])',
    );
    const dir = await tree({ users, records });
    const { code, stderr } = await runCompose(['--check', '--config', 'supergraph.yaml'], dir);
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    const [tenantLine, tenantColumn] = positionOf(users, '{{').split(':').map(Number);
    expect(lines.filter((line) => /^subgraphs\/\w+\/schema\.graphql:/.test(line))).toEqual([
      `${RECORDS}:${positionOf(records, 'secretScore')}: Record.secretScore has no authorization requirement, so it is refused to everyone: add @public, @authenticated, @requiresScopes or @policy to it or its type`,
      expect.stringMatching(
        new RegExp(
          `^${RECORDS}:${positionOf(records, 'amountCents')}: Record\\.amountCents: Int! is non-null .* Make it nullable: amountCents: Int$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^${RECORDS}:${positionOf(records, '"author"')}: Record\\.notes names the object policy "author", but subgraphs/records/policies\\.ts does not implement it`,
        ),
      ),
      `subgraphs/users/schema.graphql:${tenantLine}:${tenantColumn + 1}: Syntax Error: Expected Name, found "{".`,
    ]);
    expect(lines).toContain(
      'subgraphs/records/permissions.md: who may reach which field of records has changed (- as documented, + as the schema and roles.yaml now say): run `npm run docs` and commit it',
    );
    expect(lines[lines.length - 1]).toBe('5 problems in 3 files.');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('fails when the committed supergraph is stale', async () => {
    const dir = await tree();
    await writeFile(join(dir, 'supergraph.graphql'), 'schema { query: Query }\n');
    const { code, stderr } = await runCompose(['--check', '--config', 'supergraph.yaml'], dir);
    expect(code).toBe(1);
    expect(stderr).toContain('supergraph.graphql: stale, not what supergraph.yaml composes to: run `npm run compose` and commit it\n');
  });

  it('answers --json with each problem located', async () => {
    const records = (await sdlOf('records')).replace(TITLE, '$&\n  secretScore: Int');
    const dir = await tree({ records });
    await writeFile(join(dir, 'supergraph.graphql'), await readFile(join(root, 'supergraph.graphql')));
    const { code, stdout } = await runCompose(['--check', '--json', '--config', 'supergraph.yaml'], dir);
    expect(code).toBe(1);
    const [line, column] = positionOf(records, 'secretScore').split(':').map(Number);
    expect(JSON.parse(stdout).problems).toContainEqual({
      file: RECORDS,
      line,
      column,
      rule: 'no-requirement',
      message: expect.any(String),
    });
  });

  it('exits 2 on a usage error or a supergraph.yaml that cannot be read', async () => {
    expect(await runCompose(['--check', '--frobnicate'], root)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown option --frobnicate'),
    });
    expect(await runCompose(['--config'], root)).toMatchObject({ code: 2, stderr: expect.stringContaining('--config needs a path') });
    const dir = await tree();
    expect(await runCompose(['--check', '--config', 'missing.yaml'], dir)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('missing.yaml'),
    });
  });
});

describe('npm run compose', () => {
  it('refuses to write a supergraph with a field nobody ruled, naming it, and exits 1', async () => {
    const records = (await sdlOf('records')).replace(TITLE, '$&\n  secretScore: Int');
    const dir = await tree({ records });
    const { code, stdout, stderr } = await runCompose(['--config', 'supergraph.yaml'], dir);
    expect(code).toBe(1);
    expect(stderr).toContain(`${RECORDS}:${positionOf(records, 'secretScore')}: Record.secretScore has no authorization requirement`);
    expect(stderr).toContain('supergraph.graphql not written.');
    expect(stdout).toBe('');
    expect(await exists(join(dir, 'supergraph.graphql'))).toBe(false);
  });

  it('leaves the committed supergraph untouched when a policy is not implemented', async () => {
    const dir = await tree();
    await writeFile(join(dir, 'subgraphs/records/policies.ts'), policiesModule(['owner']));
    await writeFile(join(dir, 'supergraph.graphql'), 'the committed one\n');
    const { code, stderr } = await runCompose(['--config', 'supergraph.yaml'], dir);
    expect(code).toBe(1);
    expect(stderr).toContain('names the object policy "classification", but subgraphs/records/policies.ts does not implement it');
    expect(await readFile(join(dir, 'supergraph.graphql'), 'utf8')).toBe('the committed one\n');
  });

  it('writes the supergraph when there is no problem', async () => {
    const dir = await tree();
    const { code, stdout } = await runCompose(['--config', 'supergraph.yaml'], dir);
    expect(code).toBe(0);
    expect(stdout).toContain(`Wrote ${join(dir, 'supergraph.graphql')}`);
    expect(await readFile(join(dir, 'supergraph.graphql'), 'utf8')).toBe(await readFile(join(root, 'supergraph.graphql'), 'utf8'));
  });
});
