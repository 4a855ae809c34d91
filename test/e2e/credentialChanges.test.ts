import { nextTotpCode, startStack, type Stack } from '../helpers/stack';
import { decodePayload, globex, mintAccessToken } from '../helpers/tokens';

// A change of credentials ends every other session of the account (revoked like a logout, audited) and gives the
// session that made it fresh tokens.
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const REFRESH = 'mutation($t: String) { refreshSession(refreshToken: $t) { accessToken } }';
const LOGIN =
  'mutation($input: LoginInput!) { login(input: $input) { __typename ... on AuthSession { accessToken } ... on TwoFactorChallenge { challengeId } } }';
const extensionsOf = (result: { body: { errors?: Array<{ extensions?: Record<string, any> }> } }) => result.body.errors?.[0]?.extensions;
const login = (email: string, password: string) => stack.gql(LOGIN, { variables: { input: { email, password, tenant: 'globex' } } });
const auditCount = async (event: string, userId: string) =>
  Number(
    (await stack.db.pool.query('SELECT count(*) AS n FROM auth.audit_events WHERE event = $1 AND user_id = $2', [event, userId])).rows[0].n,
  );

/** The other session is over: its access token is refused here at once, and its refresh token no longer works. */
async function expectEnded(session: { accessToken: string; refreshToken: string }) {
  const result = await stack.gql('{ me { id } }', { token: session.accessToken });
  expect(result.status).toBe(401);
  expect(extensionsOf(result)?.reason).toBe('token_revoked');
  expect(extensionsOf(await stack.gql(REFRESH, { variables: { t: session.refreshToken } }))?.reason).toBe('session_revoked');
}
/** The session that made the change goes on: its token and its refresh token still work. */
async function expectAlive(session: { accessToken: string; refreshToken: string }) {
  expect((await stack.gql('{ me { id } }', { token: session.accessToken })).status).toBe(200);
  expect((await stack.gql(REFRESH, { variables: { t: session.refreshToken } })).body.data.refreshSession.accessToken).toEqual(
    expect.any(String),
  );
}

describe('changes of credentials end every other session', () => {
  it('enrolling a second factor, then removing it', async () => {
    const here = await stack.loginSession('agent@globex.example', 'globex');
    const elsewhere = await stack.loginSession('agent@globex.example', 'globex');
    const { secret } = (await stack.gql('mutation { startTotpEnrolment { secret } }', { token: here.accessToken })).body.data
      .startTotpEnrolment;
    const confirm = await stack.gql('mutation($c: String!) { confirmTotpEnrolment(code: $c) { accessToken refreshToken } }', {
      token: here.accessToken,
      variables: { c: await nextTotpCode('globex-agent', secret) },
    });
    const fresh = confirm.body.data.confirmTotpEnrolment;
    expect(fresh.refreshToken).toBeNull();
    expect(decodePayload(fresh.accessToken)).toMatchObject({ sid: decodePayload(here.accessToken).sid, amr: ['pwd', 'otp'] });
    await expectEnded(elsewhere);
    await expectAlive(here);
    expect(await auditCount('OTHER_SESSIONS_ENDED', globex.users.agent.id)).toBe(1);

    // A new session elsewhere (with the second factor now), then the factor is removed from here.
    const challenge = (await login('agent@globex.example', 'gatehouse-demo')).body.data.login.challengeId;
    const other = (
      await stack.gql('mutation($id: ID!, $c: String!) { verifyLoginCode(challengeId: $id, code: $c) { accessToken refreshToken } }', {
        variables: { id: challenge, c: await nextTotpCode('globex-agent', secret) },
      })
    ).body.data.verifyLoginCode;
    const disable = await stack.gql('mutation($c: String!) { disableTotp(code: $c) { accessToken } }', {
      token: fresh.accessToken,
      variables: { c: await nextTotpCode('globex-agent', secret) },
    });
    expect(disable.body.data.disableTotp.accessToken).toEqual(expect.any(String));
    await expectEnded(other);
    expect(await auditCount('OTHER_SESSIONS_ENDED', globex.users.agent.id)).toBe(2);
  }, 120_000);

  it('changing the password: the current one is required, the old one stops working, the others end', async () => {
    const here = await stack.loginSession('member@globex.example', 'globex');
    const elsewhere = await stack.loginSession('member@globex.example', 'globex');
    const change = (currentPassword: string, newPassword: string) =>
      stack.gql(
        'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken refreshToken } }',
        {
          token: here.accessToken,
          variables: { c: currentPassword, n: newPassword },
        },
      );

    expect(extensionsOf(await change('not the password', 'a-new-long-password'))).toEqual({
      code: 'BAD_USER_INPUT',
      reason: 'invalid_password',
    });
    expect(extensionsOf(await change('gatehouse-demo', 'short'))).toEqual({ code: 'BAD_USER_INPUT', reason: 'weak_password' });
    expect(extensionsOf(await change('gatehouse-demo', 'gatehouse-demo'))).toEqual({
      code: 'BAD_USER_INPUT',
      reason: 'password_unchanged',
    });
    await expectAlive(elsewhere); // refused changes end nothing

    const changed = await change('gatehouse-demo', 'a-new-long-password');
    expect(changed.body.data.changePassword).toEqual({ accessToken: expect.any(String), refreshToken: null });
    await expectEnded(elsewhere);
    await expectAlive(here);
    expect(extensionsOf(await login('member@globex.example', 'gatehouse-demo'))?.reason).toBe('invalid_credentials');
    expect((await login('member@globex.example', 'a-new-long-password')).body.data.login.__typename).toBe('AuthSession');
    expect(await auditCount('PASSWORD_CHANGED', globex.users.member.id)).toBe(1);
    expect(await auditCount('PASSWORD_CHANGE_REFUSED', globex.users.member.id)).toBe(1);
  });

  it('changing the password of an account with a second factor needs a recent one (STEP_UP_REQUIRED)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const stale = await mintAccessToken(stack.signingKey, {
      issuer: stack.issuer,
      audience: stack.audience,
      userId: globex.users.admin.id,
      tenantId: globex.id,
      roles: ['ADMIN'],
      amr: ['pwd', 'otp'],
      authTime: now - 3600,
    });
    const result = await stack.gql(
      'mutation { changePassword(currentPassword: "gatehouse-demo", newPassword: "another-long-password") { accessToken } }',
      {
        token: stale,
      },
    );
    expect(extensionsOf(result)).toMatchObject({ code: 'STEP_UP_REQUIRED', requiredAmr: ['otp'] });
    expect(await auditCount('PASSWORD_CHANGED', globex.users.admin.id)).toBe(0);
  });

  it("an admin's password reset: the old password stops working, every session of the user ends, a token sets a new one", async () => {
    const admin = await stack.login('admin@globex.example', 'globex');
    const manager = await stack.loginSession('manager@globex.example', 'globex');
    const reset = await stack.gql(`mutation { resetUserPassword(userId: "${globex.users.manager.id}") { userId invitationToken } }`, {
      token: admin,
    });
    expect(reset.body.errors).toBeUndefined();
    await expectEnded(manager);
    expect(extensionsOf(await login('manager@globex.example', 'gatehouse-demo'))?.reason).toBe('invalid_credentials');
    const accepted = await stack.gql(
      'mutation($t: String!) { acceptInvitation(invitationToken: $t, password: "chosen-after-reset") { accessToken } }',
      {
        variables: { t: reset.body.data.resetUserPassword.invitationToken },
      },
    );
    expect(accepted.body.data.acceptInvitation.accessToken).toEqual(expect.any(String));
    expect((await login('manager@globex.example', 'chosen-after-reset')).body.data.login.__typename).toBe('AuthSession');
    expect(await auditCount('PASSWORD_RESET', globex.users.manager.id)).toBe(1);
  });
});
