import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import { createSchemaPermissions, type ObjectPolicy } from '../../auth';
import { checkSupergraph } from '../../scripts/checkSupergraph';
import { findUnimplementedPolicies, loadObjectPolicies, type LoadedPolicies } from '../../scripts/findUnimplementedPolicies';
import { formatProblem } from '../../scripts/schemaProblem';
import { policiesModule, positionOf, root, sdlOf } from './schemaTree';

const configPath = join(root, 'supergraph.yaml');
const RECORDS = 'subgraphs/records/schema.graphql';
const TITLE = 'title: String! @requiresScopes(scopes: [["record:read"]])';
/** The policies each subgraph of the repository implements, without importing its resolvers. */
const implemented = async (): Promise<LoadedPolicies> => ({ policies: { owner: () => true, classification: () => true } });

/** The check's lines for the repository's schemas, with `records` (and others) replaced. */
async function check(overrides: Record<string, string>, loadPolicies = implemented) {
  const result = await checkSupergraph(configPath, { overrides, loadPolicies });
  return { ...result, lines: result.problems.map(formatProblem) };
}

const withRecordField = async (field: string) => {
  const sdl = (await sdlOf('records')).replace(TITLE, `$&\n  ${field}`);
  return { sdl, ...(await check({ records: sdl })) };
};

describe('the schema check', () => {
  it('finds nothing in the repository', async () => {
    const { lines, supergraphSdl } = await check({});
    expect(lines).toEqual([]);
    expect(supergraphSdl).toBeDefined();
  });

  it('names a field without a requirement at its file, line and column', async () => {
    const { sdl, lines } = await withRecordField('secretScore: Int');
    expect(lines).toEqual([
      `${RECORDS}:${positionOf(sdl, 'secretScore')}: Record.secretScore has no authorization requirement, so it is refused to everyone: add @public, @authenticated, @requiresScopes or @policy to it or its type`,
    ]);
  });

  it("reports every subgraph's problems in one run when another does not parse, and composes nothing", async () => {
    const users = (await sdlOf('users')).replace('type Tenant @authenticated {', 'type Tenant @authenticated {{');
    const records = (await sdlOf('records')).replace(TITLE, '$&\n  secretScore: Int');
    const { lines, supergraphSdl } = await check({ users, records });
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^${RECORDS}:${positionOf(records, 'secretScore')}: Record.secretScore has no authorization`)),
      `subgraphs/users/schema.graphql:${positionOf(users, '{{').replace(/\d+$/, (column) => String(Number(column) + 1))}: Syntax Error: Expected Name, found "{".`,
    ]);
    expect(supergraphSdl).toBeUndefined();
  });

  it('names a scope no role grants where the directive names it', async () => {
    const { sdl, lines } = await withRecordField('score: Int @requiresScopes(scopes: [["record:score"]])');
    expect(lines).toEqual([
      `${RECORDS}:${positionOf(sdl, '"record:score"')}: Record.score names the scope "record:score", which no role in roles.yaml grants: grant it to a role, or fix the name`,
    ]);
  });

  it("names an object policy that the subgraph's policies.ts does not implement, where the schema names it", async () => {
    const sdl = (await sdlOf('records')).replace(
      TITLE,
      `$&\n  notes: String @policy(policies: [["author"], ["scope:record:read:internal"]])`,
    );
    const { lines } = await check({ records: sdl });
    expect(lines).toEqual([
      `${RECORDS}:${positionOf(sdl, '"author"')}: Record.notes names the object policy "author", but subgraphs/records/policies.ts does not implement it: the records subgraph would refuse to start. Implement it in \`policies\` of subgraphs/records/policies.ts, or fix the name`,
    ]);
  });

  it('loads policies.ts beside the schema, and says when it is missing or exports no policies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-policies-'));
    try {
      const schemaFile = join(dir, 'schema.graphql');
      expect(await loadObjectPolicies(schemaFile)).toEqual({ problem: expect.stringMatching(/policies\.ts does not exist$/) });
      await writeFile(join(dir, 'policies.ts'), 'export const rules = {};\n');
      expect(await loadObjectPolicies(schemaFile)).toEqual({
        problem: expect.stringMatching(/policies\.ts exports no `policies` object$/),
      });
      await writeFile(join(dir, 'policies.ts'), policiesModule(['owner']));
      jest.resetModules();
      expect(Object.keys(((await loadObjectPolicies(schemaFile)) as { policies: object }).policies)).toEqual(['owner']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the non-null check', () => {
  it('names a non-null field under an owner policy where a list of its type is served, with the fix', async () => {
    const { sdl, lines } = await withRecordField('amountCents: Int! @policy(policies: [["owner"]])');
    expect(lines).toEqual([
      `${RECORDS}:${positionOf(sdl, 'amountCents')}: Record.amountCents: Int! is non-null but may be refused where its parent is served: a Record is served to MEMBER through Query.record, and the object policy "owner" decides for MEMBER, Record by Record. A refusal nulls the whole Record, and a [Record!] list with it. Make it nullable: amountCents: Int`,
    ]);
    expect((await withRecordField('amountCents: Int @policy(policies: [["owner"]])')).lines).toEqual([]);
  });

  it('names a non-null field needing a scope that a role served its parent lacks', async () => {
    const { sdl, lines } = await withRecordField('reviewNotes: [String!]! @requiresScopes(scopes: [["record:read:internal"]])');
    expect(lines).toEqual([
      `${RECORDS}:${positionOf(sdl, 'reviewNotes')}: Record.reviewNotes: [String!]! is non-null but may be refused where its parent is served: a Record is served to MEMBER through Query.record, and MEMBER lacks "record:read:internal". A refusal nulls the whole Record, and a [Record!] list with it. Make it nullable: reviewNotes: [String!]`,
    ]);
  });

  /** The records SDL with `types` added and `stats` on Query. */
  const withStats = async (stats: string, types: string) =>
    (await sdlOf('records')).replace('type Query {', `type Query {\n  stats: ${stats}\n}\n${types}\nextend type Query {`);

  it('names a non-null field that anonymous callers are refused under a public parent', async () => {
    const sdl = await withStats('Stats @public', 'type Stats @public {\n  total: Int! @authenticated\n}');
    expect((await check({ records: sdl })).lines).toEqual([
      `${RECORDS}:${positionOf(sdl, 'total')}: Stats.total: Int! is non-null but may be refused where its parent is served: a Stats is served to anonymous callers through Query.stats, and anonymous callers are refused it. A refusal nulls the whole Stats, and a [Stats!] list with it. Make it nullable: total: Int`,
    ]);
  });

  it('names a non-null field that needs a second factor its parent does not', async () => {
    const sdl = await withStats(
      'Stats @authenticated',
      'type Stats @authenticated {\n  archived: Int! @policy(policies: [["step_up"]])\n}',
    );
    expect((await check({ records: sdl })).lines).toEqual([
      expect.stringContaining(
        `${RECORDS}:${positionOf(sdl, 'archived')}: Stats.archived: Int! is non-null but may be refused where its parent is served: a Stats is served to MEMBER through Query.stats, and MEMBER must first prove a recent second factor.`,
      ),
    ]);
  });

  it("does not count the type's own requirement: a caller it refuses is never served the object", async () => {
    // Like Query.viewer (@public) and Viewer (@authenticated): an anonymous caller gets null, not an object.
    const sdl = await withStats('Stats @public', 'type Stats @authenticated {\n  total: Int!\n}');
    expect((await check({ records: sdl })).lines).toEqual([]);
  });

  it('names a non-null root field, whose refusal nulls the whole response', async () => {
    const sdl = (await sdlOf('records')).replace(
      'type Query {',
      'type Query {\n  recordCount: Int! @requiresScopes(scopes: [["record:read"]])',
    );
    const { lines } = await check({ records: sdl });
    expect(lines).toEqual([
      `${RECORDS}:${positionOf(sdl, 'recordCount')}: Query.recordCount: Int! is non-null but may be refused where its parent is served: the Query root is open to everyone, and anonymous callers are refused it. A refusal nulls the whole response data, every other root field with it. Make it nullable: recordCount: Int`,
    ]);
  });
});

describe('the policy check agrees with start-up', () => {
  const typeDefs = parse(/* GraphQL */ `
    type Query {
      thing: Thing @authenticated
    }
    type Thing {
      id: ID! @public
      secret: String @policy(policies: [["owner"], ["scope:thing:read"]])
    }
  `);
  const schema = {
    name: 'things',
    routingUrl: '',
    schemaFile: '/nowhere/schema.graphql',
    displayFile: 'schema.graphql',
    document: typeDefs,
  };
  const cases: [string, Record<string, ObjectPolicy>][] = [
    ['none', {}],
    ['owner', { owner: () => true }],
    ['another name', { author: () => true }],
    ['owner, not a function', { owner: true as unknown as ObjectPolicy }],
    ['owner, inherited only', Object.create({ owner: () => true }) as Record<string, ObjectPolicy>],
  ];
  it.each(cases)('policies %s: a problem exactly when start-up refuses', async (_, policies) => {
    const startUpRefuses = (() => {
      try {
        createSchemaPermissions(typeDefs, policies);
        return false;
      } catch (error) {
        return error instanceof TypeError;
      }
    })();
    const problems = await findUnimplementedPolicies(schema, async () => ({ policies }));
    expect(problems.length > 0).toBe(startUpRefuses);
  });
});
