import type { Gateway } from '../../gateway/createGateway';
import { startStack, type Stack } from '../helpers/stack';

// The lean path (GRAPHQL_PIPELINE=lean, the default) answers POSTed JSON operations without Apollo Server's request
// pipeline. Apollo Server stays the reference: every request below goes to a lean gateway and to an 'apollo' one on the
// same subgraphs, in development and in production mode, and the answers must be the same bytes — status, content
// type, body — while the lean gateway says which path answered. The rest of the suite runs on the lean default.
let stack: Stack;
type Instance = { gateway: Gateway; url: string };
let pairs: Record<'development' | 'production', { lean: Instance; apollo: Instance }>;
let member: string;
let agent: string;
let globexRecord: string;

beforeAll(async () => {
  stack = await startStack();
  const production = { NODE_ENV: 'production', CONTEXT_SIGNING_SECRET: stack.contextSecret };
  pairs = {
    development: {
      lean: { gateway: stack.gateway, url: stack.gatewayUrl },
      apollo: await stack.addGateway({ GRAPHQL_PIPELINE: 'apollo' }),
    },
    production: {
      lean: await stack.addGateway(production),
      apollo: await stack.addGateway({ ...production, GRAPHQL_PIPELINE: 'apollo' }),
    },
  };
  member = await stack.login('member@acme.example', 'acme');
  agent = await stack.login('agent@acme.example', 'acme');
  const globex = await stack.login('member@globex.example', 'globex');
  globexRecord = (await stack.gql('{ records(first: 1) { nodes { id } } }', { token: globex })).body.data.records.nodes[0].id;
});
afterAll(async () => {
  await stack?.close();
});

interface Case {
  name: string;
  /** Which path the lean gateway must take (in each mode, when they differ); neither: refused before both. */
  path: 'lean' | 'apollo' | 'neither' | Record<'development' | 'production', 'lean' | 'apollo'>;
  method?: 'GET' | 'POST';
  token?: () => string;
  headers?: Record<string, string>;
  /** A JSON body (stringified here), or raw text. */
  body?: unknown;
  raw?: string;
  search?: string;
}

const json = { 'content-type': 'application/json' };
const HOP = '{ complaints(first: 3) { nodes { subject filedBy { displayName } } } }';

const cases: Case[] = [
  { name: 'a one-subgraph query', path: 'lean', token: () => member, body: { query: '{ me { displayName } }' } },
  { name: 'an entity hop across subgraphs', path: 'lean', token: () => agent, body: { query: HOP } },
  {
    name: 'a field the caller may not see: null with FORBIDDEN, siblings answered',
    path: 'lean',
    token: () => member,
    body: { query: '{ complaints(first: 2) { nodes { subject internalNotes } } }' },
  },
  { name: 'anonymous, a field that needs a caller', path: 'lean', body: { query: '{ me { displayName } }' } },
  {
    name: 'the named operation of several, with variables',
    path: 'lean',
    token: () => member,
    body: {
      query: 'query A { me { displayName } } query B($n: Int!) { records(first: $n) { nodes { title } } }',
      operationName: 'B',
      variables: { n: 2 },
    },
  },
  {
    name: 'null operationName, variables and a non-APQ extension',
    path: 'lean',
    token: () => member,
    body: { query: '{ viewer { tenantId } }', operationName: null, variables: null, extensions: { client: 'x' } },
  },
  {
    name: 'a variable of the wrong type: BAD_USER_INPUT, 400, no subgraph call',
    path: 'lean',
    token: () => member,
    body: { query: 'query($n: Int!) { records(first: $n) { nodes { id } } }', variables: { n: 'two' } },
  },
  {
    name: 'a missing required variable',
    path: 'lean',
    token: () => member,
    body: { query: 'query($n: Int!) { records(first: $n) { nodes { id } } }' },
  },
  {
    name: "a mutation naming another tenant's record: looked up as the caller, refused as NOT_FOUND",
    path: 'lean',
    token: () => member,
    body: {
      query: 'mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { id } }',
      variables: { input: { subject: 's', description: 'd', relatedRecordId: '' } },
    },
  },
  {
    name: 'a mutation refused by the subgraph (bad input)',
    path: 'lean',
    token: () => member,
    body: { query: 'mutation { createRecord(input: { title: "", body: "" }) { id } }' },
  },
  {
    name: 'graphql-response+json negotiated',
    path: 'lean',
    token: () => member,
    headers: { accept: 'application/graphql-response+json, application/json;q=0.9' },
    body: { query: '{ me { displayName } }' },
  },
  {
    name: 'Accept */*',
    path: 'lean',
    token: () => member,
    headers: { accept: '*/*' },
    body: { query: '{ me { displayName } }' },
  },
  // Introspection is off in production: a validation error there, which Apollo Server words.
  { name: 'introspection', path: { development: 'lean', production: 'apollo' }, body: { query: '{ __schema { queryType { name } } }' } },
  {
    name: 'a query plan asked for (development only)',
    path: { development: 'apollo', production: 'lean' },
    token: () => agent,
    headers: { 'apollo-query-plan-experimental': '1' },
    body: { query: HOP },
  },
  { name: 'a syntax error', path: 'apollo', token: () => member, body: { query: '{ me { displayName }' } },
  { name: 'an unknown field (a suggestion)', path: 'apollo', token: () => member, body: { query: '{ me { displayNam } }' } },
  {
    name: 'too deep',
    path: 'apollo',
    token: () => member,
    body: {
      query:
        '{ me { records { nodes { owner { records { nodes { owner { records { nodes { owner { records { nodes { owner { displayName } } } } } } } } } } } } } }',
    },
  },
  {
    name: 'over the token limit',
    path: 'apollo',
    token: () => member,
    body: { query: `{ ${Array.from({ length: 700 }, (_, i) => `a${i}: viewer { tenantId }`).join(' ')} }` },
  },
  { name: 'an unknown operation name', path: 'apollo', token: () => member, body: { query: 'query A { me { id } }', operationName: 'B' } },
  { name: 'an empty operation name', path: 'apollo', token: () => member, body: { query: '{ me { id } }', operationName: '' } },
  { name: 'two anonymous operations', path: 'apollo', token: () => member, body: { query: '{ me { id } } { viewer { userId } }' } },
  { name: 'a subscription', path: 'apollo', token: () => member, body: { query: 'subscription { me { id } }' } },
  {
    name: 'an Accept that admits no JSON',
    path: 'neither', // refused before it executes (Apollo Server would run it, then answer 406)
    token: () => member,
    headers: { accept: 'text/html' },
    body: { query: '{ me { id } }' },
  },
  {
    name: 'a persisted query',
    path: 'apollo',
    token: () => member,
    body: { extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } },
  },
  { name: 'a batch', path: 'apollo', token: () => member, body: [{ query: '{ me { id } }' }, { query: '{ viewer { userId } }' }] },
  { name: 'no query', path: 'apollo', token: () => member, body: { variables: {} } },
  { name: 'variables as a string', path: 'apollo', token: () => member, body: { query: '{ me { id } }', variables: '{}' } },
  { name: 'a query that is not a string', path: 'apollo', token: () => member, body: { query: 7 } },
  {
    name: 'a GET query',
    path: 'apollo',
    method: 'GET',
    token: () => member,
    search: `?query=${encodeURIComponent('{ me { displayName } }')}`,
  },
  {
    name: 'a GET mutation',
    path: 'apollo',
    method: 'GET',
    token: () => member,
    headers: { 'apollo-require-preflight': '1' },
    search: `?query=${encodeURIComponent('mutation { logout }')}`,
  },
  {
    name: 'a GET without a CSRF header',
    path: 'apollo',
    method: 'GET',
    token: () => member,
    search: `?query=${encodeURIComponent('{ me { id } }')}`,
    headers: { 'content-type': 'text/plain' },
  },
];

async function send(url: string, request: Case) {
  const headers: Record<string, string> = request.method === 'GET' ? { ...request.headers } : { ...json, ...request.headers };
  if (request.token) headers.authorization = `Bearer ${request.token()}`;
  const response = await fetch(url + (request.search ?? ''), {
    method: request.method ?? 'POST',
    headers,
    body: request.method === 'GET' ? undefined : (request.raw ?? JSON.stringify(request.body)),
  });
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
}

const servedBy = async (gateway: Gateway) => {
  const { values } = await gateway.metrics.pipeline.get();
  const count = (path: string) => values.find((value) => value.labels.path === path)?.value ?? 0;
  return { lean: count('lean'), apollo: count('apollo') };
};

describe.each(['development', 'production'] as const)('the lean path against Apollo Server (%s)', (mode) => {
  it.each(cases.map((entry) => [entry.name, entry] as const))('%s: the same answer, on the expected path', async (_name, entry) => {
    const request: Case = entry.name.startsWith('a mutation naming')
      ? {
          ...entry,
          body: { ...(entry.body as object), variables: { input: { subject: 's', description: 'd', relatedRecordId: globexRecord } } },
        }
      : entry;
    const { lean, apollo } = pairs[mode];
    const before = await servedBy(lean.gateway);
    stack.resetCalls();
    const leanAnswer = await send(lean.url, request);
    const leanCalls = stack.totalCalls();
    stack.resetCalls();
    const apolloAnswer = await send(apollo.url, request);
    const after = await servedBy(lean.gateway);

    expect(leanAnswer).toEqual(apolloAnswer);
    expect(stack.totalCalls()).toBe(leanCalls); // the same subgraph calls, none more
    const path = typeof entry.path === 'string' ? entry.path : entry.path[mode];
    expect({ lean: after.lean - before.lean, apollo: after.apollo - before.apollo }).toEqual({
      lean: path === 'lean' ? 1 : 0,
      apollo: path === 'apollo' ? 1 : 0,
    });
    // Whatever the path, nothing internal leaks.
    expect(leanAnswer.body).not.toMatch(/stack|\bat .*\.(ts|js):\d|127\.0\.0\.1|SELECT /i);
  });
});

describe('the lean path', () => {
  it('is the only path of the apollo gateway when switched off, and answers nothing there', async () => {
    const { apollo } = pairs.development;
    const before = await servedBy(apollo.gateway);
    await send(apollo.url, cases[0]);
    const after = await servedBy(apollo.gateway);
    expect(after).toEqual({ lean: before.lean, apollo: before.apollo + 1 });
  });

  it('keeps the answers that matter to a frontend: data, FORBIDDEN at its path, BAD_USER_INPUT with 400', async () => {
    const { lean } = pairs.production;
    const ok = await send(lean.url, cases[1]);
    expect(ok.status).toBe(200);
    expect(ok.contentType).toBe('application/json; charset=utf-8');
    expect(JSON.parse(ok.body).data.complaints.nodes[0]).toEqual({
      subject: expect.any(String),
      filedBy: { displayName: expect.any(String) },
    });

    const hidden = JSON.parse((await send(lean.url, cases[2])).body);
    expect(hidden.errors[0]).toMatchObject({ path: ['complaints', 'nodes', 0, 'internalNotes'], extensions: { code: 'FORBIDDEN' } });
    expect(hidden.data.complaints.nodes[0].subject).toEqual(expect.any(String));

    stack.resetCalls();
    const badVariable = await send(lean.url, cases[6]);
    expect(badVariable.status).toBe(400);
    expect(JSON.parse(badVariable.body).errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT' });
    expect(stack.totalCalls()).toBe(0);

    const introspection = JSON.parse(
      (
        await send(
          lean.url,
          cases.find((entry) => entry.name === 'introspection')!,
        )
      ).body,
    );
    expect(introspection.data).toBeUndefined(); // production: introspection is off on both paths
    expect(introspection.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('answers a query plan asked for in development, and never in production', async () => {
    const asked = cases.find((entry) => entry.name.startsWith('a query plan asked for'))!;
    const development = JSON.parse((await send(pairs.development.lean.url, asked)).body);
    expect(development.data.complaints.nodes.length).toBeGreaterThan(0);
    expect(development.extensions.__queryPlanExperimental).toContain('Fetch(service: "complaints")');
    const production = JSON.parse((await send(pairs.production.lean.url, asked)).body);
    expect(production.data.complaints.nodes.length).toBeGreaterThan(0);
    expect(production.extensions).toBeUndefined();
  });
});
