import { startStack, type Stack } from '../helpers/stack';
import { acme } from '../helpers/tokens';

// Input that would reach Postgres and fail there is refused first, as the client's mistake: BAD_USER_INPUT, never an
// INTERNAL_SERVER_ERROR, and nothing written.
let stack: Stack;
let member: string;
beforeAll(async () => {
  stack = await startStack();
  member = await stack.login('member@acme.example', 'acme');
});
afterAll(async () => {
  await stack?.close();
});

const cursor = (createdAt: string, id = acme.users.member.id) => Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
let admin: string | undefined;
const adminToken = async () => (admin ??= await stack.login('admin@acme.example', 'acme'));
const recordCount = async () => Number((await stack.db.pool.query('SELECT count(*) AS n FROM records.records')).rows[0].n);

describe('crafted cursors', () => {
  it.each([
    ['an impossible date', cursor('2024-02-30T00:00:00.000Z')],
    ['a date Postgres cannot hold', cursor('+275760-09-13T00:00:00.000Z'.replace('275760', '999999'))],
    ['the last instant JavaScript can hold', cursor('+275760-09-13T00:00:00.000Z')],
    ['a year past 9999', cursor('+010000-01-01T00:00:00.000Z')],
    ['year zero', cursor('0000-01-01T00:00:00.000Z')],
    ['a year before zero', cursor('-000001-01-01T00:00:00.000Z')],
    ['a number where the date goes', cursor('1')],
    ['a date in another format', cursor('2024-02-01 00:00:00')],
  ])('answer BAD_USER_INPUT for %s', async (_name, after) => {
    const result = await stack.gql('query($after: String) { records(first: 5, after: $after) { nodes { id } } }', {
      token: member,
      variables: { after },
    });
    expect(result.body.errors?.map((error) => error.extensions)).toEqual([{ code: 'BAD_USER_INPUT', reason: 'invalid_cursor' }]);
  });

  it.each([
    ['complaints', 'query($after: String) { complaints(first: 5, after: $after) { nodes { id } } }'],
    ['users', 'query($after: String) { users(first: 5, after: $after) { nodes { id } } }'],
    ['auth', 'query($after: String) { auditEvents(first: 5, after: $after) { nodes { event } } }'],
  ])('answer BAD_USER_INPUT in the %s subgraph for an instant Postgres cannot hold', async (_subgraph, query) => {
    const admin = await adminToken();
    const result = await stack.gql(query, { token: admin, variables: { after: cursor('+275760-09-13T00:00:00.000Z') } });
    expect(result.body.errors?.map((error) => error.extensions)).toEqual([{ code: 'BAD_USER_INPUT', reason: 'invalid_cursor' }]);
  });

  it('the first and last instants Postgres holds are cursors (no error)', async () => {
    for (const instant of ['0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']) {
      const result = await stack.gql('query($after: String) { records(first: 5, after: $after) { nodes { id } } }', {
        token: member,
        variables: { after: cursor(instant) },
      });
      expect(result.body.errors).toBeUndefined();
    }
  });

  it('a cursor the server made still pages', async () => {
    const first = await stack.gql('{ records(first: 1) { pageInfo { endCursor } } }', { token: member });
    const after = first.body.data.records.pageInfo.endCursor;
    const next = await stack.gql('query($after: String) { records(first: 1, after: $after) { nodes { id } } }', {
      token: member,
      variables: { after },
    });
    expect(next.body.errors).toBeUndefined();
  });
});

describe('the NUL character', () => {
  const CREATE = 'mutation($input: CreateRecordInput!) { createRecord(input: $input) { id } }';
  it.each([
    ['in a variable', () => stack.gql(CREATE, { token: member, variables: { input: { title: 'a\u0000b', body: 'x' } } })],
    ['nested in a variable', () => stack.gql(CREATE, { token: member, variables: { input: { title: 'ok', body: 'x\u0000' } } })],
    ['in a string literal', () => stack.gql('mutation { createRecord(input: {title: "a\\u0000b", body: "x"}) { id } }', { token: member })],
    [
      'in a string literal, braced',
      () => stack.gql('mutation { createRecord(input: {title: "a\\u{0}b", body: "x"}) { id } }', { token: member }),
    ],
  ])('%s answers BAD_USER_INPUT and writes nothing', async (_name, send) => {
    const before = await recordCount();
    const result = await send();
    expect(result.body.errors?.map((error) => error.extensions)).toEqual([{ code: 'BAD_USER_INPUT', reason: 'nul_character' }]);
    expect(await recordCount()).toBe(before);
  });

  it('sent to another subgraph answers the same', async () => {
    const result = await stack.gql('mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { id } }', {
      token: member,
      variables: { input: { subject: 'nul\u0000', description: 'x' } },
    });
    expect(result.body.errors?.map((error) => error.extensions)).toEqual([{ code: 'BAD_USER_INPUT', reason: 'nul_character' }]);
  });
});
