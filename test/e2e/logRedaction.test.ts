import { Writable } from 'node:stream';
import { CONTEXT_HEADER } from '../../auth';
import { nextTotpCode, startStack, type Stack } from '../helpers/stack';

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    lines.push(chunk.toString());
    done();
  },
});

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ logger: { level: 'trace', stream: sink } });
});
afterAll(async () => {
  await stack?.close();
});

it('no token, password, code or secret ever reaches the logs of a full run of the auth flows', async () => {
  const secrets: string[] = [stack.contextSecret, stack.encryptionKey, 'gatehouse-demo', 'Wr0ng-Passw0rd!'];
  const remember = (...values: Array<string | null | undefined>) => values.forEach((value) => value && secrets.push(value));

  // Wrong password, a member's session, refresh, cookie delivery, logout.
  await stack.gql('mutation { login(input: {email: "member@acme.example", password: "Wr0ng-Passw0rd!", tenant: "acme"}) { __typename } }');
  const member = await stack.loginSession('member@acme.example', 'acme');
  remember(member.accessToken, member.refreshToken);
  const refreshed = await stack.gql('mutation($t: String) { refreshSession(refreshToken: $t) { accessToken refreshToken } }', {
    variables: { t: member.refreshToken },
  });
  remember(refreshed.body.data.refreshSession.accessToken, refreshed.body.data.refreshSession.refreshToken);
  const reuse = await stack.gql('mutation($t: String) { refreshSession(refreshToken: $t) { accessToken } }', {
    variables: { t: 'AAAAAQAAQACAAAAAAAAAAA.bogus' },
  });
  expect(reuse.body.errors).toBeDefined();
  const cookieLogin = await stack.gql(
    'mutation { login(input: {email: "agent@acme.example", password: "gatehouse-demo", tenant: "acme", refreshTokenDelivery: COOKIE}) { ... on AuthSession { accessToken } } }',
  );
  remember(cookieLogin.body.data.login.accessToken, cookieLogin.headers.get('set-cookie')?.split(';')[0].split('=')[1]);

  // The second step with a code, an enrolment (its secret and codes), and a refused code.
  const code = await nextTotpCode('acme:admin@acme.example');
  remember(code);
  const challenge = await stack.gql(
    'mutation { login(input: {email: "admin@acme.example", password: "gatehouse-demo", tenant: "acme"}) { ... on TwoFactorChallenge { challengeId } } }',
  );
  const challengeId = challenge.body.data.login.challengeId;
  remember(challengeId);
  await stack.gql('mutation($id: ID!) { verifyLoginCode(challengeId: $id, code: "999999") { accessToken } }', {
    variables: { id: challengeId },
  });
  const admin = await stack.gql(
    'mutation($id: ID!, $c: String!) { verifyLoginCode(challengeId: $id, code: $c) { accessToken refreshToken } }',
    {
      variables: { id: challengeId, c: code },
    },
  );
  remember(admin.body.data.verifyLoginCode.accessToken, admin.body.data.verifyLoginCode.refreshToken);
  const enrolment = await stack.gql('mutation { startTotpEnrolment { secret otpauthUri } }', { token: member.accessToken });
  const secret = enrolment.body.data.startTotpEnrolment.secret;
  remember(secret);
  const confirmCode = await nextTotpCode('member-enrolment', secret);
  remember(confirmCode);
  const confirmed = await stack.gql('mutation($c: String!) { confirmTotpEnrolment(code: $c) { accessToken } }', {
    token: member.accessToken,
    variables: { c: confirmCode },
  });
  remember(confirmed.body.data.confirmTotpEnrolment.accessToken);

  // Forged and client-sent context headers, a bad bearer token, then logout.
  await stack.gql('{ me { id } }', { token: `${member.accessToken}x` });
  await stack.gql('{ me { id } }', { token: member.accessToken, headers: { [CONTEXT_HEADER]: 'forged.context.header' } });
  await fetch(stack.subgraphs.users.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [CONTEXT_HEADER]: 'forged.context.header' },
    body: '{"query":"{ me { id } }"}',
  });
  await stack.gql('mutation { logout }', { token: member.accessToken });
  remember('forged.context.header');

  const log = lines.join('');
  expect(lines.length).toBeGreaterThan(5); // the services did log (warnings for refused contexts, …)
  for (const value of secrets) expect({ leaked: log.includes(value) ? value.slice(0, 12) : null }).toEqual({ leaked: null });
  expect(log).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
}, 90_000);

it('the gateway and every subgraph redact the same credential fields when one is logged', () => {
  const logged = {
    headers: {
      authorization: 'Bearer header-credential',
      cookie: 'gatehouse_refresh=cookie-credential',
      [CONTEXT_HEADER]: 'context-credential',
    },
    input: { password: 'password-credential', token: 'token-credential', secret: 'secret-credential' },
    session: { accessToken: 'access-credential', refreshToken: 'refresh-credential' },
  };
  const services = { gateway: stack.gateway.app, ...Object.fromEntries(Object.entries(stack.subgraphs).map(([name, s]) => [name, s.app])) };
  for (const [name, app] of Object.entries(services)) {
    const from = lines.length;
    app.log.warn(logged, `credentials logged by mistake in ${name}`);
    const line = lines.slice(from).join('');
    expect(line).toContain(`credentials logged by mistake in ${name}`);
    expect({ name, leaked: line.match(/[a-z]+-credential/g) }).toEqual({ name, leaked: null });
  }
});
