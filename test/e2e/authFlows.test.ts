import { generate } from 'otplib';
import { nextTotpCode, startStack, DEMO_TOTP_SECRET, type Stack } from '../helpers/stack';
import { acme, decodePayload, globex } from '../helpers/tokens';

let stack: Stack;
let admin: string; // one admin login for the whole file: each one spends a TOTP time step
beforeAll(async () => {
  stack = await startStack();
  admin = await stack.login('admin@acme.example', 'acme');
});
afterAll(async () => {
  await stack?.close();
});

const LOGIN = /* GraphQL */ `
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      __typename
      ... on AuthSession {
        accessToken
        refreshToken
        expiresIn
        tokenType
        sessionExpiresAt
      }
      ... on TwoFactorChallenge {
        challengeId
        methods
      }
    }
  }
`;
const VERIFY = 'mutation($id: ID!, $code: String!) { verifyLoginCode(challengeId: $id, code: $code) { accessToken refreshToken } }';
const REFRESH = 'mutation($token: String) { refreshSession(refreshToken: $token) { accessToken refreshToken } }';
const codeOf = (result: { body: { errors?: Array<{ extensions?: Record<string, any> }> } }) => result.body.errors?.[0]?.extensions?.code;
const reasonOf = (result: { body: { errors?: Array<{ extensions?: Record<string, any> }> } }) =>
  result.body.errors?.[0]?.extensions?.reason;

async function challengeFor(email: string, tenant = 'acme') {
  const result = await stack.gql(LOGIN, { variables: { input: { email, password: 'gatehouse-demo', tenant } } });
  expect(result.body.data.login).toMatchObject({ __typename: 'TwoFactorChallenge', methods: ['totp'] });
  return result.body.data.login.challengeId as string;
}

async function auditCount(event: string, userId?: string) {
  const { rows } = await stack.db.pool.query(
    'SELECT count(*)::int AS n FROM auth.audit_events WHERE event = $1 AND ($2::uuid IS NULL OR user_id = $2)',
    [event, userId ?? null],
  );
  return rows[0].n as number;
}

describe('2-step login', () => {
  it('gives an enrolled user a challenge, and a session with amr pwd+otp for a code from the enrolled secret', async () => {
    const challengeId = await challengeFor('admin@acme.example');
    const result = await stack.gql(VERIFY, { variables: { id: challengeId, code: await nextTotpCode('acme:admin@acme.example') } });
    expect(result.body.errors).toBeUndefined();
    const token = result.body.data.verifyLoginCode.accessToken;
    expect(decodePayload(token)).toMatchObject({ amr: ['pwd', 'otp'], sub: acme.users.admin.id });
    expect(decodePayload(token).auth_time).toBeGreaterThan(Date.now() / 1000 - 60);
    const viewer = await stack.gql('{ viewer { authenticationMethods roles permissions } }', { token });
    expect(viewer.body.data.viewer).toMatchObject({ authenticationMethods: ['pwd', 'otp'], roles: ['ADMIN'] });
    expect(viewer.body.data.viewer.permissions).toContain('user:manage');
  });

  it('never accepts a code twice, and a challenge is single-use', async () => {
    const code = await nextTotpCode('globex:admin@globex.example');
    const first = await challengeFor('admin@globex.example', 'globex');
    expect((await stack.gql(VERIFY, { variables: { id: first, code } })).body.errors).toBeUndefined();
    const again = await stack.gql(VERIFY, { variables: { id: first, code } });
    expect(reasonOf(again)).toBe('challenge_invalid');
    const second = await challengeFor('admin@globex.example', 'globex');
    const replay = await stack.gql(VERIFY, { variables: { id: second, code } });
    expect(codeOf(replay)).toBe('UNAUTHENTICATED');
    expect(reasonOf(replay)).toBe('invalid_code');
  });

  it('destroys a challenge after 5 wrong codes, even when they arrive in parallel', async () => {
    const userId = acme.users.admin.id;
    const refusedBefore = await auditCount('CODE_REFUSED', userId);
    const challengeId = await challengeFor('admin@acme.example');
    const wrong = Array.from({ length: 12 }, (_, i) => String((123456 + i * 7919) % 1_000_000).padStart(6, '0'));
    const answers = await Promise.all(wrong.map((code) => stack.gql(VERIFY, { variables: { id: challengeId, code } })));
    expect(answers.every((answer) => codeOf(answer) === 'UNAUTHENTICATED')).toBe(true);
    expect(await auditCount('CODE_REFUSED', userId)).toBe(refusedBefore + 5);
    // Even the right code cannot open a destroyed challenge.
    const right = await generate({ secret: DEMO_TOTP_SECRET });
    expect(reasonOf(await stack.gql(VERIFY, { variables: { id: challengeId, code: right } }))).toBe('challenge_invalid');
    const { rows } = await stack.db.pool.query(
      'SELECT count(*)::int AS n FROM auth.login_challenges WHERE user_id = $1 AND failed_attempts >= 5',
      [userId],
    );
    expect(rows[0].n).toBe(0);
  });

  it('lets a user enrol an authenticator, then asks for it at login, and disable it with a code', async () => {
    const token = await stack.login('agent@acme.example', 'acme');
    const enrol = await stack.gql('mutation { startTotpEnrolment { secret otpauthUri } }', { token });
    const { secret, otpauthUri } = enrol.body.data.startTotpEnrolment;
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/Gatehouse:agent%40acme\.example\?secret=/);
    const stored = await stack.db.pool.query('SELECT secret_encrypted FROM auth.totp_factors WHERE user_id = $1', [acme.users.agent.id]);
    expect(stored.rows[0].secret_encrypted).not.toContain(secret);

    expect(reasonOf(await stack.gql('mutation { confirmTotpEnrolment(code: "000000") { accessToken } }', { token }))).toBe('invalid_code');
    const confirm = await stack.gql('mutation($c: String!) { confirmTotpEnrolment(code: $c) { accessToken refreshToken } }', {
      token,
      variables: { c: await nextTotpCode('agent', secret) },
    });
    expect(confirm.body.data.confirmTotpEnrolment).toEqual({ accessToken: expect.any(String), refreshToken: null });
    expect(decodePayload(confirm.body.data.confirmTotpEnrolment.accessToken).amr).toEqual(['pwd', 'otp']);

    const challengeId = await challengeFor('agent@acme.example');
    const session = await stack.gql(VERIFY, { variables: { id: challengeId, code: await nextTotpCode('agent', secret) } });
    expect(session.body.data.verifyLoginCode.accessToken).toBeTruthy();

    const disable = await stack.gql('mutation($c: String!) { disableTotp(code: $c) { accessToken } }', {
      token,
      variables: { c: await nextTotpCode('agent', secret) },
    });
    expect(disable.body.errors).toBeUndefined();
    const plain = await stack.gql(LOGIN, {
      variables: { input: { email: 'agent@acme.example', password: 'gatehouse-demo', tenant: 'acme' } },
    });
    expect(plain.body.data.login.__typename).toBe('AuthSession');
  }, 90_000);
});

describe('refresh tokens', () => {
  it('are opaque, stored only as a hash, and rotate on every use', async () => {
    const session = await stack.loginSession('member@acme.example', 'acme');
    expect(session.refreshToken).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    const stored = await stack.db.pool.query(
      "SELECT count(*)::int AS n FROM auth.refresh_tokens WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'",
      [session.refreshToken.split('.')[1]],
    );
    expect(stored.rows[0].n).toBe(0);
    const next = await stack.gql(REFRESH, { variables: { token: session.refreshToken } });
    expect(next.body.errors).toBeUndefined();
    expect(next.body.data.refreshSession.refreshToken).not.toBe(session.refreshToken);
    const third = await stack.gql(REFRESH, { variables: { token: next.body.data.refreshSession.refreshToken } });
    expect(third.body.data.refreshSession.accessToken).toBeTruthy();
  });

  it('never yield two live successors to concurrent refreshes: one wins, the others are told they were superseded', async () => {
    const session = await stack.loginSession('member@acme.example', 'acme');
    const answers = await Promise.all(Array.from({ length: 8 }, () => stack.gql(REFRESH, { variables: { token: session.refreshToken } })));
    const winners = answers.filter((answer) => answer.body.data?.refreshSession);
    expect(winners).toHaveLength(1);
    for (const loser of answers.filter((answer) => !answer.body.data?.refreshSession))
      expect(reasonOf(loser)).toBe('refresh_token_superseded');
    const sessionId = decodePayload(session.accessToken).sid;
    const live = await stack.db.pool.query('SELECT count(*)::int AS n FROM auth.refresh_tokens WHERE session_id = $1 AND used_at IS NULL', [
      sessionId,
    ]);
    expect(live.rows[0].n).toBe(1);
    // The family is still alive: the winner's token works.
    expect(
      (await stack.gql(REFRESH, { variables: { token: winners[0].body.data.refreshSession.refreshToken } })).body.errors,
    ).toBeUndefined();
  });

  it('revoke the whole family when a rotated token is presented again, and audit it', async () => {
    const session = await stack.loginSession('member@acme.example', 'acme');
    const sessionId = decodePayload(session.accessToken).sid;
    const next = (await stack.gql(REFRESH, { variables: { token: session.refreshToken } })).body.data.refreshSession;
    // Past the grace window for racing refreshes.
    await stack.db.pool.query(
      "UPDATE auth.refresh_tokens SET used_at = used_at - interval '1 minute' WHERE session_id = $1 AND used_at IS NOT NULL",
      [sessionId],
    );

    const reuse = await stack.gql(REFRESH, { variables: { token: session.refreshToken } });
    expect(reasonOf(reuse)).toBe('refresh_token_reused');
    expect(reasonOf(await stack.gql(REFRESH, { variables: { token: next.refreshToken } }))).toBe('session_revoked');
    const refused = await stack.gql('{ me { id } }', { token: next.accessToken });
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'token_revoked' });
    const audited = await stack.db.pool.query(
      "SELECT count(*)::int AS n FROM auth.audit_events WHERE event = 'REFRESH_REUSE_DETECTED' AND session_id = $1",
      [sessionId],
    );
    expect(audited.rows[0].n).toBe(1);
  });

  it('can travel as an HttpOnly, Secure, SameSite=Strict cookie that the gateway passes through', async () => {
    const login = await stack.gql(LOGIN, {
      variables: { input: { email: 'member@acme.example', password: 'gatehouse-demo', tenant: 'acme', refreshTokenDelivery: 'COOKIE' } },
    });
    expect(login.body.data.login.refreshToken).toBeNull();
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^gatehouse_refresh=[A-Za-z0-9_.-]+; Path=\/graphql; Max-Age=\d+; HttpOnly; Secure; SameSite=Strict$/);
    const cookie = setCookie.split(';')[0];
    const refreshed = await stack.gql('mutation { refreshSession { accessToken refreshToken } }', {
      headers: { cookie: `theme=dark; ${cookie}` },
    });
    expect(refreshed.body.errors).toBeUndefined();
    expect(refreshed.body.data.refreshSession.refreshToken).toBeNull();
    expect(refreshed.headers.get('set-cookie')).toMatch(/^gatehouse_refresh=/);
    expect(refreshed.headers.get('set-cookie')).not.toContain(cookie);
    // Other cookies never reach a subgraph.
    const received = stack.subgraphs.auth.calls.at(-1)!.headers.cookie;
    expect(received).toBe(cookie);
  });
});

describe('logout and revocation', () => {
  it('logout: the token is refused at the gateway on the very next request, and refresh is refused', async () => {
    const session = await stack.loginSession('member@acme.example', 'acme');
    expect((await stack.gql('{ me { id } }', { token: session.accessToken })).status).toBe(200);
    const logout = await stack.gql('mutation { logout }', { token: session.accessToken });
    expect(logout.body.data.logout).toBe(true);
    stack.resetCalls();
    const next = await stack.gql('{ me { id } }', { token: session.accessToken });
    expect(next.status).toBe(401);
    expect(next.body.errors?.[0].extensions?.reason).toBe('token_revoked');
    expect(stack.totalCalls()).toBe(0);
    expect(reasonOf(await stack.gql(REFRESH, { variables: { token: session.refreshToken } }))).toBe('session_revoked');
  });

  it('logoutEverywhere ends every session of the caller and no one else', async () => {
    const one = await stack.login('manager@acme.example', 'acme');
    const two = await stack.login('manager@acme.example', 'acme');
    const other = await stack.login('agent@acme.example', 'acme');
    const ended = await stack.gql('mutation { logoutEverywhere }', { token: one });
    expect(ended.body.data.logoutEverywhere).toBeGreaterThanOrEqual(2);
    expect((await stack.gql('{ me { id } }', { token: two })).status).toBe(401);
    expect((await stack.gql('{ me { id } }', { token: other })).status).toBe(200);
  });

  it('an admin revokes a user of the tenant; a member may not', async () => {
    const member = await stack.login('member@acme.example', 'acme');
    const denied = await stack.gql(`mutation { revokeUserSessions(userId: "${acme.users.agent.id}") }`, { token: member });
    expect(codeOf(denied)).toBe('FORBIDDEN');
    const revoked = await stack.gql(`mutation { revokeUserSessions(userId: "${acme.users.member.id}") }`, { token: admin });
    expect(revoked.body.data.revokeUserSessions).toBeGreaterThanOrEqual(1);
    expect((await stack.gql('{ me { id } }', { token: member })).body.errors?.[0].extensions?.reason).toBe('token_revoked');
  });

  it('changing roles or disabling a user ends their sessions; roles are never granted above the own', async () => {
    const agent = await stack.login('agent@acme.example', 'acme');
    const promote = await stack.gql(`mutation { setUserRoles(userId: "${acme.users.agent.id}", roles: [MANAGER]) { id roles } }`, {
      token: admin,
    });
    expect(promote.body.data.setUserRoles).toEqual({ id: acme.users.agent.id, roles: ['MANAGER'] });
    expect((await stack.gql('{ me { id } }', { token: agent })).status).toBe(401);
    const relogged = await stack.login('agent@acme.example', 'acme');
    expect(decodePayload(relogged).roles).toEqual(['MANAGER']);
    expect(
      codeOf(await stack.gql(`mutation { setUserRoles(userId: "${acme.users.admin.id}", roles: [MEMBER]) { id } }`, { token: admin })),
    ).toBe('FORBIDDEN');
    expect(
      codeOf(await stack.gql(`mutation { setUserRoles(userId: "${acme.users.agent.id}", roles: [ADMIN]) { id } }`, { token: relogged })),
    ).toBe('FORBIDDEN');
    await stack.gql(`mutation { setUserRoles(userId: "${acme.users.agent.id}", roles: [AGENT]) { id } }`, { token: admin });

    const disabled = await stack.gql(`mutation { setUserDisabled(userId: "${acme.users.manager.id}", disabled: true) { id } }`, {
      token: admin,
    });
    expect(disabled.body.errors).toBeUndefined();
    const login = await stack.gql(LOGIN, {
      variables: { input: { email: 'manager@acme.example', password: 'gatehouse-demo', tenant: 'acme' } },
    });
    expect(reasonOf(login)).toBe('invalid_credentials');
    await stack.gql(`mutation { setUserDisabled(userId: "${acme.users.manager.id}", disabled: false) { id } }`, { token: admin });
    expect(await stack.login('manager@acme.example', 'acme')).toBeTruthy();
  });

  it('an admin of another tenant cannot touch acme users', async () => {
    const globexManager = await stack.login('manager@globex.example', 'globex');
    const result = await stack.gql(`mutation { revokeUserSessions(userId: "${acme.users.member.id}") }`, { token: globexManager });
    expect(codeOf(result)).toBe('FORBIDDEN');
  });

  it("revoking the sessions of another tenant's user answers NOT_FOUND, ends nothing and audits nothing that names them", async () => {
    const member = await stack.login('member@acme.example', 'acme');
    const globexAdmin = await stack.login('admin@globex.example', 'globex');
    const result = await stack.gql(`mutation { revokeUserSessions(userId: "${acme.users.member.id}") }`, { token: globexAdmin });
    expect(codeOf(result)).toBe('NOT_FOUND');
    expect((await stack.gql('{ me { id } }', { token: member })).status).toBe(200);
    const audited = await stack.db.pool.query('SELECT event, outcome FROM auth.audit_events WHERE tenant_id = $1 AND user_id = $2', [
      globex.id,
      acme.users.member.id,
    ]);
    expect(audited.rows).toEqual([]);
  });
});

describe('the audit log', () => {
  it('records every auth event for tenant admins, never a secret, and is closed to others', async () => {
    await stack.gql(LOGIN, { variables: { input: { email: 'member@acme.example', password: 'nope', tenant: 'acme' } } });
    const member = await stack.login('member@acme.example', 'acme');
    expect(codeOf(await stack.gql('{ auditEvents { nodes { id } } }', { token: member }))).toBe('FORBIDDEN');

    const events = new Set<string>();
    let after: string | null = null;
    do {
      const page: any = await stack.gql(
        'query($after: String) { auditEvents(first: 100, after: $after) { nodes { event outcome reason user { id } clientAddress occurredAt } pageInfo { hasNextPage endCursor } } }',
        {
          token: admin,
          variables: { after },
        },
      );
      expect(page.body.errors).toBeUndefined();
      for (const node of page.body.data.auditEvents.nodes) events.add(node.event);
      after = page.body.data.auditEvents.pageInfo.hasNextPage ? page.body.data.auditEvents.pageInfo.endCursor : null;
    } while (after);
    for (const event of [
      'LOGIN_SUCCEEDED',
      'LOGIN_FAILED',
      'CHALLENGE_ISSUED',
      'CODE_ACCEPTED',
      'CODE_REFUSED',
      'CHALLENGE_DESTROYED',
      'TOTP_ENROLMENT_STARTED',
      'TOTP_ENROLLED',
      'TOTP_DISABLED',
      'SESSION_REFRESHED',
      'REFRESH_REUSE_DETECTED',
      'LOGOUT',
      'LOGOUT_EVERYWHERE',
      'SESSIONS_REVOKED',
      'ROLES_CHANGED',
      'USER_DISABLED',
      'USER_ENABLED',
    ]) {
      expect({ event, recorded: events.has(event) }).toEqual({ event, recorded: true });
    }
    const failed = await stack.gql(
      '{ auditEvents(first: 100, filter: { event: "LOGIN_FAILED", outcome: FAILURE }) { nodes { event reason user { id } } } }',
      { token: admin },
    );
    expect(failed.body.data.auditEvents.nodes).toContainEqual({
      event: 'LOGIN_FAILED',
      reason: 'wrong_password',
      user: { id: acme.users.member.id },
    });
    expect(failed.body.data.auditEvents.nodes.every((node: { event: string }) => node.event === 'LOGIN_FAILED')).toBe(true);
    const globexAdmin = await stack.login('admin@globex.example', 'globex');
    const globexEvents = await stack.gql('{ auditEvents(first: 100) { nodes { user { id } } } }', { token: globexAdmin });
    expect(JSON.stringify(globexEvents.body.data)).not.toContain('00000001-');
    const dump = JSON.stringify((await stack.db.pool.query('SELECT * FROM auth.audit_events')).rows);
    expect(dump).not.toMatch(/gatehouse-demo|eyJ|\b\d{6}\b/);
  }, 90_000);
});
