import { createContextSigner } from '../../auth';
import { scopesOf } from '../helpers/scopes';
import { demoId } from '../../subgraphs/kit';
import { nextTotpCode, postToSubgraph, startStack, type Stack } from '../helpers/stack';
import { acme, globex, mintFor } from '../helpers/tokens';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ subgraphEnv: { STEP_UP_MAX_AGE_SECONDS: '300' }, gatewayEnv: { STEP_UP_MAX_AGE_SECONDS: '300' } });
});
afterAll(async () => {
  await stack?.close();
});

const codeOf = (result: { body: { errors?: Array<{ extensions?: Record<string, any> }> } }) => result.body.errors?.[0]?.extensions?.code;
const mint = (user: { id: string; role: string }, tenantId: string, extra: Parameters<typeof mintFor>[3] = {}) =>
  mintFor(stack, user, tenantId, extra);

describe('object-dependent rules are decided per object', () => {
  it("aliases cannot reuse one object's decision for another: own email yes, a colleague's no", async () => {
    const token = await stack.login('member@acme.example', 'acme');
    const result = await stack.gql(
      `{ mine: user(id: "${acme.users.member.id}") { id email } theirs: user(id: "${acme.users.agent.id}") { id email } again: user(id: "${acme.users.member.id}") { email } }`,
      { token },
    );
    expect(result.body.data.mine).toEqual({ id: acme.users.member.id, email: 'member@acme.example' });
    expect(result.body.data.theirs).toEqual({ id: acme.users.agent.id, email: null });
    expect(result.body.data.again).toEqual({ email: 'member@acme.example' });
    expect(result.body.errors?.map((error) => [error.path, error.extensions?.code])).toEqual([[['theirs', 'email'], 'FORBIDDEN']]);
  });

  it('a MEMBER never reads the CONFIDENTIAL body of someone else, by any alias or path', async () => {
    const token = await stack.login('member@acme.example', 'acme');
    const othersConfidential = demoId(acme, 1, 6); // the agent's
    const result = await stack.gql(
      `{ own: record(id: "${demoId(acme, 1, 3)}") { body } other: record(id: "${othersConfidential}") { body } list: records(first: 100) { nodes { id classification body owner { id } } } }`,
      { token },
    );
    expect(result.body.data.own.body).toContain('CONFIDENTIAL');
    expect(result.body.data.other).toBeNull();
    const foreignConfidential = result.body.data.list.nodes.filter(
      (n: any) => n.classification === 'CONFIDENTIAL' && n.owner.id !== acme.users.member.id,
    );
    expect(foreignConfidential).toEqual([]);
  });
});

describe('__resolveReference applies the same checks as the field that would have returned the entity', () => {
  it('a context without the permission gets FORBIDDEN for every entity, like the query field would', async () => {
    const signer = createContextSigner({ masterSecret: stack.contextSecret });
    const context = {
      user: { id: acme.users.member.id, tenantId: acme.id, roles: [], scopes: scopesOf([]), sessionId: 's' },
      requestId: 'r',
      clientAddress: '',
    };
    for (const [name, typename, id] of [
      ['users', 'User', acme.users.agent.id],
      ['records', 'Record', demoId(acme, 1, 1)],
      ['complaints', 'Complaint', demoId(acme, 2, 1)],
    ] as const) {
      const result = await postToSubgraph(
        stack.subgraphs[name].url,
        `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`,
        (body) => signer.sign(context, name, body),
        {
          variables: { r: [{ __typename: typename, id }] },
        },
      );
      expect({ name, entities: result.body.data?._entities, code: codeOf(result) }).toEqual({ name, entities: [null], code: 'FORBIDDEN' });
    }
  });
});

describe('tenant isolation in pages and filters', () => {
  it("a cursor pointing into another tenant pages only through the caller's own rows", async () => {
    const acmeToken = await stack.login('manager@acme.example', 'acme');
    const globexToken = await stack.login('manager@globex.example', 'globex');
    const acmePage = await stack.gql('{ records(first: 2) { pageInfo { endCursor } } }', { token: acmeToken });
    const cursor = acmePage.body.data.records.pageInfo.endCursor;
    const ids: string[] = [];
    let after: string | null = cursor;
    for (let i = 0; i < 20; i++) {
      const result: any = await stack.gql(
        'query($after: String) { records(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }',
        {
          token: globexToken,
          variables: { after },
        },
      );
      ids.push(...result.body.data.records.nodes.map((node: { id: string }) => node.id));
      if (!result.body.data.records.pageInfo.hasNextPage) break;
      after = result.body.data.records.pageInfo.endCursor;
    }
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((id) => id.startsWith('00000002-'))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length); // no row twice
    const filtered = await stack.gql('{ complaints(status: OPEN, first: 100) { nodes { id status } } }', { token: globexToken });
    expect(
      filtered.body.data.complaints.nodes.every((n: { id: string; status: string }) => n.id.startsWith('00000002-') && n.status === 'OPEN'),
    ).toBe(true);
  });
});

describe('step-up for sensitive operations', () => {
  it('answers STEP_UP_REQUIRED with what to provide, then allows the operation after stepUpSession', async () => {
    const token = await stack.login('member@acme.example', 'acme');
    const record = await stack.gql('mutation { createRecord(input: { title: "to archive", body: "x" }) { id } }', { token });
    const id = record.body.data.createRecord.id;
    const refused = await stack.gql(`mutation { archiveRecord(id: "${id}") { archivedAt } }`, { token });
    expect(refused.body.errors?.[0].extensions).toEqual({
      code: 'STEP_UP_REQUIRED',
      reason: 'step_up_required',
      requiredAmr: ['otp'],
      maxAgeSeconds: 300,
    });
    const row = await stack.db.pool.query('SELECT archived_at FROM records.records WHERE id = $1', [id]);
    expect(row.rows[0].archived_at).toBeNull();

    const enrol = await stack.gql('mutation { startTotpEnrolment { secret } }', { token });
    const secret = enrol.body.data.startTotpEnrolment.secret;
    await stack.gql('mutation($c: String!) { confirmTotpEnrolment(code: $c) { accessToken } }', {
      token,
      variables: { c: await nextTotpCode('member-step-up', secret) },
    });
    const stepped = await stack.gql('mutation($c: String!) { stepUpSession(code: $c) { accessToken refreshToken } }', {
      token,
      variables: { c: await nextTotpCode('member-step-up', secret) },
    });
    expect(stepped.body.data.stepUpSession.refreshToken).toBeNull();
    const fresh = stepped.body.data.stepUpSession.accessToken;
    const archived = await stack.gql(`mutation { archiveRecord(id: "${id}") { archivedAt } }`, { token: fresh });
    expect(archived.body.data.archiveRecord.archivedAt).toBeTruthy();
  });

  it('refuses a second factor older than the window, and never asks for one when the role is not allowed anyway', async () => {
    const stale = await mint({ id: acme.users.admin.id, role: 'ADMIN' }, acme.id, {
      amr: ['pwd', 'otp'],
      authTime: Math.floor(Date.now() / 1000) - 301,
    });
    const result = await stack.gql(`mutation { setUserRoles(userId: "${acme.users.member.id}", roles: [MEMBER]) { id } }`, {
      token: stale,
    });
    expect(codeOf(result)).toBe('STEP_UP_REQUIRED');
    const member = await mint({ id: acme.users.member.id, role: 'MEMBER' }, acme.id);
    expect(
      codeOf(await stack.gql(`mutation { setUserRoles(userId: "${acme.users.agent.id}", roles: [MEMBER]) { id } }`, { token: member })),
    ).toBe('FORBIDDEN');
  });
});

describe('user administration', () => {
  it('an admin creates a user in the users subgraph, invites them with roles in auth, and they sign in', async () => {
    const admin = await mint({ id: acme.users.admin.id, role: 'ADMIN' }, acme.id, { amr: ['pwd', 'otp'] });
    const created = await stack.gql(
      'mutation { createUser(input: { email: "new.hire@acme.example", displayName: "New Hire" }) { id email tenant { slug } } }',
      { token: admin },
    );
    expect(created.body.errors).toBeUndefined();
    const userId = created.body.data.createUser.id;
    const invited = await stack.gql(
      `mutation { inviteUser(input: { userId: "${userId}", email: "new.hire@acme.example", roles: [AGENT] }) { userId invitationToken expiresAt } }`,
      {
        token: admin,
      },
    );
    const { invitationToken } = invited.body.data.inviteUser;
    // Before accepting, the account cannot sign in.
    const early = await stack.gql(
      'mutation { login(input: { email: "new.hire@acme.example", password: "whatever-it-is", tenant: "acme" }) { __typename } }',
    );
    expect(early.body.errors?.[0].extensions?.reason).toBe('invalid_credentials');
    const weak = await stack.gql('mutation($t: String!) { acceptInvitation(invitationToken: $t, password: "short") { accessToken } }', {
      variables: { t: invitationToken },
    });
    expect(weak.body.errors?.[0].extensions?.reason).toBe('weak_password');
    const accepted = await stack.gql(
      'mutation($t: String!) { acceptInvitation(invitationToken: $t, password: "a long enough passphrase") { accessToken } }',
      {
        variables: { t: invitationToken },
      },
    );
    const token = accepted.body.data.acceptInvitation.accessToken;
    const me = await stack.gql('{ me { displayName email } viewer { roles } }', { token });
    expect(me.body.data).toEqual({ me: { displayName: 'New Hire', email: 'new.hire@acme.example' }, viewer: { roles: ['AGENT'] } });
    const again = await stack.gql(
      'mutation($t: String!) { acceptInvitation(invitationToken: $t, password: "another long passphrase") { accessToken } }',
      {
        variables: { t: invitationToken },
      },
    );
    expect(again.body.errors?.[0].extensions?.reason).toBe('invitation_invalid');
  });

  it('no one grants a role above their own or in another tenant, and only admins manage users', async () => {
    const admin = await mint({ id: acme.users.admin.id, role: 'ADMIN' }, acme.id, { amr: ['pwd', 'otp'] });
    const manager = await mint({ id: acme.users.manager.id, role: 'MANAGER' }, acme.id, { amr: ['pwd', 'otp'] });
    expect(
      codeOf(await stack.gql('mutation { createUser(input: { email: "x@acme.example", displayName: "X" }) { id } }', { token: manager })),
    ).toBe('FORBIDDEN');
    const foreign = await stack.gql(`mutation { setUserRoles(userId: "${globex.users.member.id}", roles: [ADMIN]) { id } }`, {
      token: admin,
    });
    expect(codeOf(foreign)).toBe('NOT_FOUND');
    const { rows } = await stack.db.pool.query('SELECT roles FROM auth.credentials WHERE user_id = $1', [globex.users.member.id]);
    expect(rows[0].roles).toEqual(['MEMBER']);
    // A manager-like admin bound by its own rank: an ADMIN may grant ADMIN; nobody may grant above their highest role.
    const invitedByManager = await stack.gql(
      `mutation { inviteUser(input: { userId: "${acme.users.member.id}", email: "m@acme.example", roles: [ADMIN] }) { userId } }`,
      { token: manager },
    );
    expect(codeOf(invitedByManager)).toBe('FORBIDDEN');
  });
});
