import { startStack, type Stack } from '../helpers/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    authEnv: { LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: '3', LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '5', LOGIN_THROTTLE_WINDOW_SECONDS: '600' },
    gatewayEnv: { TRUST_PROXY: '1' },
  });
});
afterAll(async () => {
  await stack?.close();
});

const attempt = (email: string, password: string, address: string) =>
  stack.gql('mutation($input: LoginInput!) { login(input: $input) { __typename } }', {
    variables: { input: { email, password, tenant: 'acme' } },
    headers: { 'x-forwarded-for': address },
  });
const extensionsOf = (result: { body: { errors?: Array<{ extensions?: Record<string, any> }> } }) => result.body.errors?.[0]?.extensions;

describe('login throttling', () => {
  it('limits attempts per account, forgives them after a success, and answers RATE_LIMITED with a retry time', async () => {
    for (const password of ['wrong-1', 'wrong-2'])
      expect(extensionsOf(await attempt('member@acme.example', password, '10.0.0.1'))?.reason).toBe('invalid_credentials');
    expect((await attempt('member@acme.example', 'gatehouse-demo', '10.0.0.2')).body.data.login.__typename).toBe('AuthSession');
    for (const address of ['10.0.0.3', '10.0.0.4', '10.0.0.5'])
      expect(extensionsOf(await attempt('member@acme.example', 'wrong', address))?.reason).toBe('invalid_credentials');
    // The fourth attempt is refused whatever the password and the address.
    const sessionsBefore = (await stack.db.pool.query('SELECT count(*)::int AS n FROM auth.sessions')).rows[0].n;
    const throttled = await attempt('member@acme.example', 'gatehouse-demo', '10.0.0.6');
    expect(throttled.body.data).toEqual({ login: null });
    expect(extensionsOf(throttled)).toMatchObject({ code: 'RATE_LIMITED', reason: 'too_many_attempts' });
    expect(extensionsOf(throttled)?.retryAfterSeconds).toBeGreaterThan(500);
    expect((await stack.db.pool.query('SELECT count(*)::int AS n FROM auth.sessions')).rows[0].n).toBe(sessionsBefore);
  });

  it('throttles an unknown account exactly like a real one, so throttling tells nothing about which emails exist', async () => {
    const answers = [];
    for (const address of ['10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.4'])
      answers.push(await attempt('nobody@acme.example', 'x', address));
    expect(answers.slice(0, 3).map((answer) => extensionsOf(answer)?.reason)).toEqual([
      'invalid_credentials',
      'invalid_credentials',
      'invalid_credentials',
    ]);
    const throttled = extensionsOf(answers[3])!;
    expect({ ...throttled, retryAfterSeconds: 0 }).toEqual({ code: 'RATE_LIMITED', reason: 'too_many_attempts', retryAfterSeconds: 0 });
    expect(answers[3].body.errors?.[0].message).toMatch(/^Too many attempts; retry in \d+ s$/);
  });

  it('limits attempts per client address across accounts', async () => {
    const emails = ['admin', 'manager', 'agent', 'member', 'nobody'].map((name) => `${name}@globex.example`);
    for (const email of emails) expect(extensionsOf(await attempt(email, 'wrong', '10.0.2.1'))?.reason).toBe('invalid_credentials');
    expect(extensionsOf(await attempt('someone-else@acme.example', 'wrong', '10.0.2.1'))?.code).toBe('RATE_LIMITED');
    expect(extensionsOf(await attempt('someone-else@acme.example', 'wrong', '10.0.2.2'))?.reason).toBe('invalid_credentials');
  });

  // The test connects as the one trusted proxy (TRUST_PROXY=1): the last X-Forwarded-For entry is the one it adds;
  // whatever stands before it, the client wrote.
  it('takes the address the trusted proxy saw, whatever the client wrote before it: limits and audit alike', async () => {
    const emails = [1, 2, 3, 4, 5].map((n) => `someone-${n}@acme.example`);
    for (const [index, email] of emails.entries()) {
      const spoofed = `198.51.100.${index}, 10.0.4.1`;
      expect(extensionsOf(await attempt(email, 'wrong', spoofed))?.reason).toBe('invalid_credentials');
    }
    expect(extensionsOf(await attempt('someone-6@acme.example', 'wrong', '198.51.100.99, 10.0.4.1'))?.code).toBe('RATE_LIMITED');
    const audited = await stack.db.pool.query<{ client_address: string }>(
      "SELECT DISTINCT client_address FROM auth.audit_events WHERE client_address LIKE '198.51.100.%' OR client_address = '10.0.4.1'",
    );
    expect(audited.rows).toEqual([{ client_address: '10.0.4.1' }]);
  });
});

describe('when the limiter store is down', () => {
  let broken: Stack;
  beforeAll(async () => {
    // Redis configured but unreachable (nothing listens on port 1).
    broken = await startStack({ authEnv: { REDIS_URL: 'redis://127.0.0.1:1' } });
  });
  afterAll(async () => {
    await broken?.close();
  });

  it('login fails closed with a clear error, never as a wrong password, and opens no session', async () => {
    const result = await broken.gql(
      'mutation { login(input: {email: "member@acme.example", password: "gatehouse-demo", tenant: "acme"}) { __typename } }',
    );
    expect(result.body.errors?.[0].extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'throttle_unavailable' });
    const sessions = await broken.db.pool.query('SELECT count(*)::int AS n FROM auth.sessions');
    expect(sessions.rows[0].n).toBe(0);
  });
});
