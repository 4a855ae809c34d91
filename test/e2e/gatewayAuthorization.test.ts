import { createContextSigner } from '../../auth';
import { demoId } from '../../subgraphs/kit';
import { postToSubgraph, startStack, type Stack } from '../helpers/stack';
import { scopesOf } from '../helpers/scopes';
import { acme, mintAccessToken } from '../helpers/tokens';

/**
 * The gateway checks each operation against the supergraph's authorization directives before planning: a field the
 * caller may not see is removed, answered null with a coded error at its path, and no subgraph is called for it.
 */
let stack: Stack;
let member: string;
let agent: string;
const totalCalls = () => Object.values(stack.subgraphs).reduce((sum, subgraph) => sum + subgraph.calls.length, 0);
const callsTo = (name: string) => stack.subgraphs[name].calls.length;

beforeAll(async () => {
  stack = await startStack();
  member = await stack.login('member@acme.example', 'acme');
  agent = await stack.login('agent@acme.example', 'acme');
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

describe('authorization at the gateway', () => {
  it('calls no subgraph for a root field the caller may not see, and answers the allowed sibling', async () => {
    const before = { auth: callsTo('auth'), users: callsTo('users') };
    const result = await stack.gql('{ me { displayName } auditEvents(first: 1) { nodes { id } } }', { token: member });
    expect(result.status).toBe(200);
    expect(result.body.data).toEqual({ me: { displayName: 'Acme Member' }, auditEvents: null });
    expect(result.body.errors).toEqual([
      expect.objectContaining({
        path: ['auditEvents'],
        extensions: expect.objectContaining({ code: 'FORBIDDEN', reason: 'missing_scope' }),
      }),
    ]);
    expect(callsTo('auth')).toBe(before.auth); // the audit log's subgraph never saw the request
    expect(callsTo('users')).toBe(before.users + 1);
  });

  it('calls no subgraph at all when nothing of the operation is left', async () => {
    const before = totalCalls();
    const forbidden = await stack.gql('{ auditEvents(first: 1) { nodes { id } } }', { token: member });
    expect(forbidden.body.data).toEqual({ auditEvents: null });
    expect(forbidden.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const anonymous = await stack.gql('{ records(first: 1) { nodes { id } } }');
    expect(anonymous.body.data).toEqual({ records: null });
    expect(anonymous.body.errors?.[0]).toMatchObject({
      path: ['records'],
      extensions: { code: 'UNAUTHENTICATED', reason: 'login_required' },
    });
    expect(totalCalls()).toBe(before);
  });

  it('asks for a recent second factor before calling the subgraph', async () => {
    const manager = await mintAccessToken(stack.signingKey, {
      issuer: stack.issuer,
      audience: stack.audience,
      userId: acme.users.manager.id,
      tenantId: acme.id,
      roles: ['MANAGER'],
      amr: ['pwd'],
    });
    const before = callsTo('records');
    const result = await stack.gql(`mutation { archiveRecord(id: "${demoId(acme, 1, 7)}") { id } }`, { token: manager });
    expect(result.body.errors?.[0]).toMatchObject({
      path: ['archiveRecord'],
      extensions: { code: 'STEP_UP_REQUIRED', requiredAmr: ['otp'] },
    });
    expect(callsTo('records')).toBe(before);
  });

  it('keeps one filtered plan per scope set: a staff member never gets the plan made for a member, nor the reverse', async () => {
    const query = '{ complaints(first: 5) { nodes { subject internalNotes } } }';
    const asAgent = async () => (await stack.gql(query, { token: agent })).body;
    const asMember = async () => (await stack.gql(query, { token: member })).body;
    const refused = await asMember();
    expect(refused.data.complaints.nodes.length).toBeGreaterThan(0);
    expect(refused.data.complaints.nodes.every((node: { internalNotes: string | null }) => node.internalNotes === null)).toBe(true);
    expect(refused.errors?.every((error) => error.extensions?.code === 'FORBIDDEN')).toBe(true);
    const allowed = await asAgent();
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data.complaints.nodes.some((node: { internalNotes: string | null }) => typeof node.internalNotes === 'string')).toBe(
      true,
    );
    expect(await asMember()).toEqual(refused);
  });

  it('leaves object policies to the subgraph, which decides per object', async () => {
    const result = await stack.gql(`{ me { email } user(id: "${acme.users.agent.id}") { id email } }`, { token: member });
    expect(result.body.data.me.email).toBe('member@acme.example');
    expect(result.body.data.user).toEqual({ id: acme.users.agent.id, email: null });
    expect(result.body.errors?.[0]).toMatchObject({ path: ['user', 'email'], extensions: { code: 'FORBIDDEN', reason: 'not_owner' } });
  });
});

describe('authorization in the subgraph, called directly with a valid context (defence in depth)', () => {
  it('refuses the field the gateway would have removed', async () => {
    const signer = createContextSigner({ masterSecret: stack.contextSecret });
    const user = { id: acme.users.member.id, tenantId: acme.id, roles: ['MEMBER'], scopes: scopesOf(['MEMBER']), sessionId: 's' };
    const result = await postToSubgraph(
      stack.subgraphs.complaints.url,
      '{ complaints(first: 5) { nodes { subject internalNotes } } }',
      (body) => signer.sign({ user, requestId: 'r', clientAddress: '' }, 'complaints', body),
    );
    expect(result.body.data.complaints.nodes.length).toBeGreaterThan(0);
    for (const node of result.body.data.complaints.nodes) expect(node.internalNotes).toBeNull();
    expect(result.body.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'missing_scope' });
    const audit = await postToSubgraph(stack.subgraphs.auth.url, '{ auditEvents(first: 1) { nodes { id } } }', (body) =>
      signer.sign({ user, requestId: 'r', clientAddress: '' }, 'auth', body),
    );
    expect(audit.body.data).toEqual({ auditEvents: null });
    expect(audit.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it("checks an entity type's own requirement before resolving a reference", async () => {
    const signer = createContextSigner({ masterSecret: stack.contextSecret });
    const result = await postToSubgraph(
      stack.subgraphs.complaints.url,
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Complaint { id subject } } }',
      (body) => signer.sign({ user: null, requestId: 'r', clientAddress: '' }, 'complaints', body),
      { variables: { r: [{ __typename: 'Complaint', id: demoId(acme, 2, 1) }] } },
    );
    expect(JSON.stringify(result.body.data ?? null)).not.toContain('subject');
    expect(result.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});
