import pg from 'pg';
import { deriveContextKey } from '../../auth';
import { createDatabase, createSubgraphServer, requestRoleOf } from '../../subgraphs/kit';
import * as users from '../../subgraphs/users/subgraph';
import { eventually } from '../helpers/eventually';
import { rawPost } from '../helpers/rawHttp';
import { startPrivateRedis } from '../helpers/redisServer';
import { postGraphQL, startStack, type Stack } from '../helpers/stack';
import { demoId } from '../../subgraphs/kit';
import { acme } from '../helpers/tokens';

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack({
    gatewayEnv: {
      MAX_DEPTH: '6',
      MAX_ALIASES: '5',
      MAX_TOKENS: '300',
      MAX_DIRECTIVES: '5',
      MAX_COST: '800',
      BODY_LIMIT_BYTES: '4096',
      SUBGRAPH_COMPLAINTS_TIMEOUT_MS: '300',
    },
  });
  token = await stack.login('member@acme.example', 'acme');
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(() => stack.resetCalls());

const codeOf = (result: { body: { errors?: Array<{ extensions?: Record<string, any> }> } }) => result.body.errors?.[0]?.extensions?.code;

describe('query limits, before any subgraph call', () => {
  const deep = '{ me { records { nodes { owner { records { nodes { owner { displayName } } } } } } } }';
  const aliases = `{ ${Array.from({ length: 8 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
  const tokens = `{ me { ${Array.from({ length: 400 }, () => 'id').join(' ')} } }`;
  const directives = `{ me { id ${Array.from({ length: 8 }, () => '@include(if: true)').join(' ')} } }`;
  const costly = '{ records(first: 100) { nodes { owner { records(first: 100) { nodes { id title body } } } } } }';
  it.each([
    ['depth', deep],
    ['aliases', aliases],
    ['directives', directives],
    ['cost', costly],
  ])('refuses too much %s', async (_name, query) => {
    const result = await stack.gql(query, { token });
    expect(result.status).toBe(400);
    expect(codeOf(result)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(stack.totalCalls()).toBe(0);
  });

  // The parser stops at the limit, as Apollo Router's does: a parse failure, like any syntax error.
  it.each([
    ['too many tokens', tokens],
    ['a syntax error', '{ me { id }'],
    ['a stray character', '{ me { id } } %'],
  ])('answers %s with GRAPHQL_PARSE_FAILED', async (_name, query) => {
    const result = await stack.gql(query, { token });
    expect(result.status).toBe(400);
    expect(result.body.errors).toHaveLength(1);
    expect(codeOf(result)).toBe('GRAPHQL_PARSE_FAILED');
    expect(result.body.errors?.[0].message).toMatch(/^Syntax Error: /);
    expect(stack.totalCalls()).toBe(0);
  });

  it('lets an ordinary query through', async () => {
    const result = await stack.gql('{ me { displayName } records(first: 5) { nodes { title } } }', { token });
    expect(result.status).toBe(200);
    expect(result.body.errors).toBeUndefined();
  });

  it('refuses an oversized body and batched requests', async () => {
    const big = await stack.gql(`{ me { id } } # ${'x'.repeat(5000)}`, { token });
    expect(big.status).toBe(413);
    const batch = await rawPost(
      stack.gatewayUrl,
      [
        ['content-type', 'application/json'],
        ['authorization', `Bearer ${token}`],
      ],
      JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }' }]),
    );
    expect(batch.status).toBe(400);
    expect(stack.totalCalls()).toBe(0);
  });

  it('refuses a simple (CSRF-able) request without a preflight', async () => {
    const result = await rawPost(stack.gatewayUrl, [['content-type', 'text/plain']], JSON.stringify({ query: 'mutation { logout }' }));
    expect([400, 415]).toContain(result.status);
    expect(stack.totalCalls()).toBe(0);
  });
});

describe('failure behaviour', () => {
  it('a slow subgraph hits its own timeout: its fields are null with a coded error, the rest resolves', async () => {
    stack.delays.complaints = 1500;
    try {
      const startedAt = Date.now();
      const result = await stack.gql(`{ me { displayName } complaint(id: "${demoId(acme, 2, 1)}") { subject } }`, { token });
      expect(Date.now() - startedAt).toBeLessThan(1400);
      expect(result.body.data).toEqual({ me: { displayName: 'Acme Member' }, complaint: null });
      expect(result.body.errors?.[0].extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'subgraph_unavailable' });
    } finally {
      stack.delays.complaints = 0;
    }
  });

  it('never retries a mutation: a subgraph that times out received it exactly once', async () => {
    const another = await stack.addGateway({ SUBGRAPH_RECORDS_TIMEOUT_MS: '200' });
    // undici's timers are coarse (about half a second): the subgraph is far slower than the timeout.
    stack.delays.records = 2500;
    try {
      stack.resetCalls();
      const result = await postGraphQL(another.url, 'mutation { createRecord(input: { title: "once", body: "once" }) { id } }', { token });
      expect(result.body.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
      await new Promise((resolve) => setTimeout(resolve, 2600));
      expect(stack.subgraphs.records.calls).toHaveLength(1);
    } finally {
      stack.delays.records = 0;
    }
  });

  it('a database that is down answers SERVICE_UNAVAILABLE and readiness says not ready, never a wrong answer', async () => {
    // The users subgraph on a pool whose Postgres is gone (nothing listens on port 1).
    const deadPool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
    const broken = await createSubgraphServer({
      service: users.createSubgraph(),
      db: createDatabase(deadPool, requestRoleOf('users')),
      contextKey: deriveContextKey(stack.contextSecret, 'users'),
      logger: false,
    });
    await broken.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(broken.server.address() as { port: number }).port}/graphql`;
    const gateway = await stack.addGateway({ SUBGRAPH_USERS_URL: url });
    try {
      expect((await fetch(url.replace('/graphql', '/health/ready'))).status).toBe(503);
      const result = await postGraphQL(gateway.url, '{ me { displayName } viewer { userId } }', { token });
      expect(result.body.data.me).toBeNull();
      expect(result.body.data.viewer.userId).toBe(acme.users.member.id);
      expect(result.body.errors?.[0].extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'database_unavailable' });
      expect(JSON.stringify(result.body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|nobody/);
    } finally {
      await broken.close();
      await deadPool.end();
    }
  });

  it('a subgraph that is down gives partial data with a coded error and no internal detail', async () => {
    const another = await stack.addGateway({ SUBGRAPH_RECORDS_URL: 'http://127.0.0.1:1/graphql' });
    const result = await postGraphQL(another.url, `{ me { displayName } record(id: "${demoId(acme, 1, 1)}") { title } }`, { token });
    expect(result.body.data).toEqual({ me: { displayName: 'Acme Member' }, record: null });
    expect(result.body.errors?.[0].extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'subgraph_unavailable' });
    expect(JSON.stringify(result.body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|records/i);
  });

  it('shutting down drains a request in flight', async () => {
    const another = await stack.addGateway();
    stack.delays.users = 400;
    try {
      stack.resetCalls();
      const inFlight = postGraphQL(another.url, '{ me { displayName } }', { token });
      // In flight for sure: the users subgraph holds its call (a fixed pause races the request on a busy machine).
      await eventually(() => stack.subgraphs.users.calls.length > 0, 30_000);
      const closing = another.gateway.close();
      const result = await inFlight;
      await closing;
      expect(result.status).toBe(200);
      expect(result.body.data.me.displayName).toBe('Acme Member');
      await expect(fetch(another.url.replace('/graphql', '/health/live'))).rejects.toThrow();
    } finally {
      stack.delays.users = 0;
    }
  });
});

describe('rate limits shared by all gateway instances', () => {
  let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('count one client across two gateways and answer 429 with Retry-After, before any subgraph call', async () => {
    const env = {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'rl-test:',
      RATE_LIMIT_PER_ADDRESS: '5',
      RATE_LIMIT_PER_USER: '100',
      TRUST_PROXY: '1',
    };
    const [a, b] = [await stack.addGateway(env), await stack.addGateway(env)];
    const headers = { 'x-forwarded-for': '203.0.113.9' };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await postGraphQL(i % 2 ? a.url : b.url, '{ me { id } }', { token, headers })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    stack.resetCalls();
    const refused = await postGraphQL(a.url, '{ me { id } }', { token, headers });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body.errors?.[0].extensions).toEqual({
      code: 'RATE_LIMITED',
      reason: 'address_limit',
      retryAfterSeconds: Number(refused.headers.get('retry-after')),
    });
    expect((await postGraphQL(b.url, '{ me { id } }', { token, headers })).status).toBe(429);
    expect(stack.totalCalls()).toBe(0);
    // Another client is unaffected.
    expect((await postGraphQL(b.url, '{ me { id } }', { token, headers: { 'x-forwarded-for': '203.0.113.10' } })).status).toBe(200);
  });
});

describe('observability', () => {
  it('/metrics, on a port of its own, exposes requests by operation, authentication outcomes, token cache, JWKS fetches, revocation lag, subgraph calls and rate limits', async () => {
    expect((await fetch(stack.gatewayUrl.replace('/graphql', '/metrics'))).status).toBe(404); // never on the public port
    expect(new URL(stack.gateway.metricsUrl!).port).not.toBe(new URL(stack.gatewayUrl).port);
    await stack.gql('query MyRecords { records(first: 1) { nodes { id } } }', { token });
    const text = await (await fetch(stack.gateway.metricsUrl!)).text();
    for (const series of [
      'gatehouse_request_duration_seconds_count{operation="MyRecords",status="200"}',
      'gatehouse_authentication_total{outcome="ok"}',
      'gatehouse_token_cache_total{result="hit"}',
      'gatehouse_jwks_fetches_total{result="ok",reason="load"}',
      'gatehouse_revocation_lag_seconds_count',
      'gatehouse_subgraph_request_duration_seconds_count{subgraph="records",outcome="ok"}',
      'gatehouse_rate_limited_total',
      'gatehouse_revocation_bus_up',
    ]) {
      expect({ series, present: text.includes(series) }).toEqual({ series, present: true });
    }
  });

  it('counts the fields the gateway removes before planning, by code', async () => {
    await stack.gql('{ complaints { nodes { internalNotes } } }', { token });
    const text = await (await fetch(stack.gateway.metricsUrl!)).text();
    expect(text).toMatch(/gatehouse_field_refusals_total\{code="FORBIDDEN"\} [1-9]/);
  });

  it('each subgraph exposes /metrics on a port of its own, with authorization denials by rule and reason', async () => {
    for (const subgraph of Object.values(stack.subgraphs)) {
      expect((await fetch(subgraph.url.replace('/graphql', '/metrics'))).status).toBe(404);
      expect((await fetch(subgraph.metricsUrl)).status).toBe(200);
    }
    // Someone else's email: the object policy, decided in the users subgraph.
    await stack.gql(`{ user(id: "${acme.users.agent.id}") { email } }`, { token });
    const users = await (await fetch(stack.subgraphs.users.metricsUrl)).text();
    expect(users).toMatch(
      /gatehouse_authorization_denials_total\{[^}]*rule="[^"]*owner\|scope:user:read:email",reason="not_owner"[^}]*\} [1-9]/,
    );
    await stack.gql('{ complaints { nodes { id } } }', { token });
    const text = await (await fetch(stack.subgraphs.complaints.metricsUrl)).text();
    expect(text).toMatch(/gatehouse_subgraph_operation_duration_seconds_count\{[^}]*subgraph="complaints"/);
    expect(text).toContain('gatehouse_context_refusals_total');
    // Node.js's default metrics under their standard names, told apart by a service label.
    expect(text).toMatch(/^process_cpu_seconds_total\{[^}]*service="complaints"[^}]*\} /m);
    expect(text).not.toContain('gatehouse_subgraph_process_');
    const gateway = await (await fetch(stack.gateway.metricsUrl!)).text();
    expect(gateway).toMatch(/^nodejs_eventloop_lag_seconds\{service="gateway"\} /m);
    expect(gateway).not.toContain('gatehouse_gateway_process_');
  });
});

describe('Apollo Sandbox', () => {
  it('in development the landing page loads, introspection works for a signed-in user, and Studio may call with CORS', async () => {
    const page = await fetch(stack.gatewayUrl, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/sandbox/i);
    const introspection = await stack.gql('{ __schema { queryType { name } types { name } } }', { token });
    expect(introspection.body.data.__schema.queryType.name).toBe('Query');
    const preflight = await fetch(stack.gatewayUrl, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://studio.apollographql.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://studio.apollographql.com');
    const evil = await fetch(stack.gatewayUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('in production the landing page, introspection and field suggestions are off', async () => {
    const production = await stack.addGateway({ NODE_ENV: 'production', CONTEXT_SIGNING_SECRET: stack.contextSecret });
    const page = await fetch(production.url, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/sandbox/i);
    const introspection = await postGraphQL(production.url, '{ __schema { queryType { name } } }', { token });
    expect(codeOf(introspection)).toBe('GRAPHQL_VALIDATION_FAILED');
    const typo = await postGraphQL(production.url, '{ me { displayNam } }', { token });
    expect(JSON.stringify(typo.body)).not.toMatch(/Did you mean/);
  });
});
