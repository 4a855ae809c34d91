import { postGraphQL, startStack, type GraphQLResult, type Stack } from '../helpers/stack';

// One subgraph down (its address refuses connections, as a killed service's does): the fields it serves are null,
// each with SERVICE_UNAVAILABLE at its path; everything else is answered, with HTTP 200.
let stack: Stack;
let member: string;
let deadUrl: string;
beforeAll(async () => {
  stack = await startStack();
  member = await stack.login('member@acme.example', 'acme');
  // Nothing listens on port 1: connections are refused, as a killed service's are (a port found free could be taken
  // by another test meanwhile).
  deadUrl = 'http://127.0.0.1:1/graphql';
});
afterAll(async () => {
  await stack?.close();
});

/** A gateway on the same stack whose `name` subgraph is down. */
async function gatewayWithout(name: string) {
  const { url } = await stack.addGateway({ [`SUBGRAPH_${name.toUpperCase()}_URL`]: deadUrl });
  return (query: string, variables?: Record<string, unknown>) => postGraphQL(url, query, { token: member, variables });
}

const unavailableAt = (result: GraphQLResult) =>
  (result.body.errors ?? []).map((error) => {
    expect(error.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'subgraph_unavailable' });
    expect(error.message).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    return error.path?.join('.');
  });

describe('partial results when one subgraph is down', () => {
  it('complaints: the complaints are null, the profile is answered', async () => {
    const query = await gatewayWithout('complaints');
    const result = await query('{ me { displayName } complaints { nodes { id } } }');
    expect(result.status).toBe(200);
    expect(result.body.data).toEqual({ me: { displayName: 'Acme Member' }, complaints: null });
    expect(unavailableAt(result)).toEqual(['complaints']);
  });

  it('records: the records are null, at the top and inside the user; the rest is answered', async () => {
    const query = await gatewayWithout('records');
    const result = await query(
      '{ me { displayName records(first: 2) { nodes { title } } } records(first: 1) { nodes { id } } viewer { userId } }',
    );
    expect(result.status).toBe(200);
    expect(result.body.data.me).toEqual({ displayName: 'Acme Member', records: null });
    expect(result.body.data.records).toBeNull();
    expect(result.body.data.viewer).toEqual({ userId: expect.any(String) });
    expect(unavailableAt(result).sort()).toEqual(['me.records', 'records']);

    const mutation = await query('mutation { createRecord(input: { title: "t", body: "b" }) { id } }');
    expect(mutation.status).toBe(200);
    expect(mutation.body.data).toEqual({ createRecord: null });
    expect(unavailableAt(mutation)).toEqual(['createRecord']);
  });

  it('users: the profile is null, and so is each filer; the complaints and records are answered', async () => {
    const query = await gatewayWithout('users');
    const result = await query(
      '{ me { displayName } records(first: 2) { nodes { title } } complaints(first: 2) { nodes { subject filedBy { displayName } } } }',
    );
    expect(result.status).toBe(200);
    expect(result.body.data.me).toBeNull();
    expect(result.body.data.records.nodes.length).toBeGreaterThan(0);
    const complaints = result.body.data.complaints.nodes;
    expect(complaints.length).toBeGreaterThan(0);
    for (const complaint of complaints) expect(complaint).toEqual({ subject: expect.any(String), filedBy: null });
    const paths = unavailableAt(result);
    expect(paths).toContain('me');
    expect(paths.filter((path) => path?.startsWith('complaints.nodes.')).length).toBe(complaints.length);
  });

  it('auth: the viewer is null, the rest is answered (tokens are still checked against the held key set)', async () => {
    const query = await gatewayWithout('auth');
    const result = await query('{ viewer { userId } me { displayName } records(first: 1) { nodes { id } } }');
    expect(result.status).toBe(200);
    expect(result.body.data.viewer).toBeNull();
    expect(result.body.data.me).toEqual({ displayName: 'Acme Member' });
    expect(result.body.data.records.nodes).toHaveLength(1);
    expect(unavailableAt(result)).toEqual(['viewer']);
  });
});
