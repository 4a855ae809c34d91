import { eventually } from '../helpers/eventually';
import { redisForTest } from '../helpers/redisServer';
import { postGraphQL, startStack, type Stack } from '../helpers/stack';
import { startTcpRelay } from '../helpers/tcpRelay';

// Redis answers through a relay the test controls; here it holds every reply back for ten seconds. No request may
// wait for that: the rate limits count in memory, the login throttle fails closed, a logout is published later.
let stack: Stack;
let relay: Awaited<ReturnType<typeof startTcpRelay>>;
let redis: Awaited<ReturnType<typeof redisForTest>>;

beforeAll(async () => {
  redis = await redisForTest();
  relay = await startTcpRelay({ host: redis.host, port: redis.port });
  const redisUrl = `redis://127.0.0.1:${relay.port}`;
  stack = await startStack({
    gatewayEnv: {
      REDIS_URL: redisUrl,
      REDIS_TIMEOUT_MS: '50',
      RATE_LIMIT_PER_USER: '1000',
      RATE_LIMIT_PER_TENANT: '10000',
      RATE_LIMIT_PER_ADDRESS: '1000',
      RATE_LIMIT_WINDOW_SECONDS: '1',
    },
    authEnv: { REDIS_URL: redisUrl, REDIS_TIMEOUT_MS: '50' },
  });
});
afterAll(async () => {
  relay?.setDelay(0);
  await stack?.close();
  await relay?.close();
  await redis?.release();
});
afterEach(() => relay.setDelay(0));

/** A request that must be answered long before Redis would answer (the relay holds replies for 10 s). */
const send = (query: string, token?: string) => postGraphQL(stack.gatewayUrl, query, { token });
async function withinFiveSeconds<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('still waiting on Redis after 5 s')), 5000);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const LOGIN =
  'mutation { login(input: {email: "member@acme.example", password: "gatehouse-demo", tenant: "acme"}) { ... on AuthSession { accessToken } } }';

describe('a slow Redis', () => {
  it('does not slow the rate-limited request path: the limits count in memory meanwhile', async () => {
    const token = await stack.login('member@acme.example', 'acme');
    relay.setDelay(10_000);
    const result = await withinFiveSeconds(send('{ me { displayName } }', token));
    expect(result.status).toBe(200);
    expect(result.body.data.me.displayName).toBe('Acme Member');
  });

  it('fails a login closed at once (SERVICE_UNAVAILABLE), never as a wrong password, and opens no session', async () => {
    const before = (await stack.db.pool.query('SELECT count(*)::int AS n FROM auth.sessions')).rows[0].n;
    relay.setDelay(10_000);
    const result = await withinFiveSeconds(send(LOGIN));
    expect(result.body.errors?.[0].extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'throttle_unavailable' });
    expect((await stack.db.pool.query('SELECT count(*)::int AS n FROM auth.sessions')).rows[0].n).toBe(before);
    relay.setDelay(0);
    expect((await send(LOGIN)).body.data.login.accessToken).toEqual(expect.any(String));
  });

  it('does not hold up a logout: the session ends at once here, and the bus gets the revocation when Redis answers', async () => {
    const token = await stack.login('member@acme.example', 'acme');
    relay.setDelay(10_000);
    const logout = await withinFiveSeconds(send('mutation { logout }', token));
    expect(logout.body).toEqual({ data: { logout: true } });
    expect((await withinFiveSeconds(send('{ me { id } }', token))).status).toBe(401);
    const pending = await stack.db.pool.query('SELECT count(*)::int AS n FROM auth.revocation_outbox WHERE published_at IS NULL');
    expect(pending.rows[0].n).toBeGreaterThan(0); // kept for the outbox relay to publish, not lost
    relay.setDelay(0);
    await eventually(
      async () =>
        (await stack.db.pool.query('SELECT count(*)::int AS n FROM auth.revocation_outbox WHERE published_at IS NULL')).rows[0].n === 0,
    );
  });
});

describe('a Redis that is gone', () => {
  it('is logged, counted and named by readiness, while requests are still served', async () => {
    const token = await stack.login('member@acme.example', 'acme');
    await relay.close(); // every connection cut, and no new one accepted
    const gatewayBase = stack.gatewayUrl.replace(/\/graphql$/, '');
    const authBase = stack.subgraphs.auth.url.replace(/\/graphql$/, '');
    const readiness = async (base: string) =>
      (await fetch(`${base}/health/ready`)).json() as Promise<{ status: string; degraded?: string[] }>;
    const degradedAt = async (base: string) => (await readiness(base)).degraded ?? [];
    const allOf = (names: string[]) => async (base: string) =>
      (await degradedAt(base)).filter((name) => names.includes(name)).length === names.length;
    // Bounded and generous; on timeout the assertions below say what is missing.
    // The gateway's revocations come through Redis only when the stack runs on Redis (REDIS_URL); its rate limits always.
    const gatewayClients = process.env.REDIS_URL ? ['rate_limits', 'revocations_reader'] : ['rate_limits'];
    await eventually(() => allOf(gatewayClients)(gatewayBase), 30_000).catch(() => undefined);
    expect(await readiness(gatewayBase)).toEqual({ status: 'ready', keys: true, degraded: expect.arrayContaining(gatewayClients) });
    await eventually(() => allOf(['login_throttle'])(authBase), 30_000).catch(() => undefined);
    expect(await readiness(authBase)).toEqual({ status: 'ready', degraded: expect.arrayContaining(['login_throttle']) });
    const metrics = await (await fetch(stack.gateway.metricsUrl!)).text();
    expect(metrics).toMatch(/gatehouse_redis_connection_errors_total\{client="rate_limits"\} [1-9]/);
    // The rate limits count in memory meanwhile: the request is served.
    const result = await withinFiveSeconds(send('{ me { displayName } }', token));
    expect(result.body.data.me.displayName).toBe('Acme Member');
  });
});
