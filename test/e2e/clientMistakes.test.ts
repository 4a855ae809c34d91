import { eventually } from '../helpers/eventually';
import { captureLogs } from '../helpers/logSink';
import { startStack, type Stack } from '../helpers/stack';

/**
 * A client's mistake is answered with a 4xx and a code of the closed set — never a 500, never masked as
 * INTERNAL_SERVER_ERROR — is logged at info level without a stack, and executes nothing: on the lean path and through
 * Apollo Server, POST and GET, anonymous and signed in. Every such error Apollo Server or Apollo Gateway raises that a
 * client can provoke is walked here.
 */
const { stream: sink, lines } = captureLogs();

let stack: Stack;
let token: string;
const gateways: Record<'lean' | 'apollo', string> = { lean: '', apollo: '' };
beforeAll(async () => {
  stack = await startStack({ logger: { level: 'debug', stream: sink } });
  gateways.lean = stack.gatewayUrl;
  gateways.apollo = (await stack.addGateway({ GRAPHQL_PIPELINE: 'apollo' }, { logger: { level: 'debug', stream: sink } })).url;
  token = await stack.login('member@acme.example', 'acme');
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(() => stack.resetCalls());

interface Request {
  method?: 'GET' | 'POST';
  /** POST: the JSON body (a string is sent as it is); GET: the search parameters. */
  body?: unknown;
  search?: Record<string, string>;
  headers?: Record<string, string>;
}

async function send(url: string, request: Request, signedIn: boolean) {
  const headers: Record<string, string> = { ...(signedIn ? { authorization: `Bearer ${token}` } : {}) };
  let response: Response;
  if (request.method === 'GET') {
    const search = new URLSearchParams(request.search).toString();
    response = await fetch(`${url}?${search}`, { headers: { 'apollo-require-preflight': 'true', ...headers, ...request.headers } });
  } else {
    const body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers, ...request.headers }, body });
  }
  const text = await response.text();
  return {
    status: response.status,
    body: JSON.parse(text) as { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> },
    requestId: response.headers.get('x-request-id')!,
  };
}

/** The request was answered `status` with `code` and `reason`, logged once at info level, and no subgraph was called. */
async function expectRefused(result: Awaited<ReturnType<typeof send>>, status: number, code: string, reason?: string) {
  expect({ status: result.status, code: result.body.errors?.[0]?.extensions?.code }).toEqual({ status, code });
  if (reason) expect(result.body.errors?.[0]?.extensions?.reason).toBe(reason);
  expect(result.body.data).toBeUndefined();
  // The refusal is logged before the answer is sent; waiting for it costs nothing when it is there.
  await eventually(
    () => lines.some((line) => line.requestId === result.requestId && line.msg === 'request refused'),
    30_000,
    20,
    'the refusal line',
  ).catch(
    () => undefined, // the assertions below say what is missing
  );
  const mine = lines.filter((line) => line.requestId === result.requestId);
  expect(mine.filter((line) => (line.level as number) >= 40)).toEqual([]);
  expect(mine.filter((line) => line.msg === 'request refused')).toEqual([
    expect.objectContaining({ level: 30, status, code, ...(reason ? { reason } : {}) }),
  ]);
  expect(mine.some((line) => 'err' in line || 'stack' in line)).toBe(false);
  expect(stack.totalCalls()).toBe(0);
}

const twoOperations = 'query A { me { id } } query B { me { displayName } }';
const subscription = 'subscription { complaintUpdated { id subject } }';
const hash = '0'.repeat(64);

describe.each(['lean', 'apollo'] as const)('through the %s pipeline', (pipeline) => {
  describe.each([
    ['anonymous', false],
    ['signed in', true],
  ] as const)('%s', (_caller, signedIn) => {
    it.each([
      ['an unknown operationName', { body: { query: twoOperations, operationName: 'C' } }, 'unknown_operation_name'],
      ['operationName null with two operations', { body: { query: twoOperations, operationName: null } }, 'operation_name_required'],
      ['no operationName with two operations', { body: { query: twoOperations } }, 'operation_name_required'],
      [
        'an unknown operationName over GET',
        { method: 'GET', search: { query: twoOperations, operationName: 'C' } },
        'unknown_operation_name',
      ],
      ['no operationName over GET', { method: 'GET', search: { query: twoOperations } }, 'operation_name_required'],
    ] as Array<[string, Request, string]>)('answers %s with 400 OPERATION_RESOLUTION_FAILURE', async (_name, request, reason) => {
      await expectRefused(await send(gateways[pipeline], request, signedIn), 400, 'OPERATION_RESOLUTION_FAILURE', reason);
    });
  });

  it.each([
    ['POSTed', { body: { query: subscription } }, 400],
    [
      'POSTed accepting multipart subscriptions and JSON',
      { body: { query: subscription }, headers: { accept: 'multipart/mixed;subscriptionSpec="1.0", application/json' } },
      400,
    ],
    [
      'POSTed accepting multipart subscriptions only',
      { body: { query: subscription }, headers: { accept: 'multipart/mixed;subscriptionSpec="1.0"' } },
      406,
    ],
    ['sent by GET', { method: 'GET', search: { query: subscription } }, 405],
  ] as Array<[string, Request, number]>)(
    'refuses a subscription %s, saying where subscriptions are served',
    async (_name, request, status) => {
      const result = await send(gateways[pipeline], request, true);
      await expectRefused(result, status, 'BAD_REQUEST');
      expect(result.body.errors?.[0].message).toContain('WebSocket (graphql-ws) on /graphql and over SSE on /graphql/stream');
    },
  );

  it.each([
    [
      'a persisted query hash that does not match',
      { body: { query: '{ me { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: hash } } } },
      400,
      'BAD_REQUEST',
      'persisted_query_hash_mismatch',
    ],
    [
      'an unsupported persisted query version',
      { body: { query: '{ me { id } }', extensions: { persistedQuery: { version: 2, sha256Hash: hash } } } },
      400,
      'BAD_REQUEST',
      'persisted_query_version_unsupported',
    ],
    ['a mutation sent by GET', { method: 'GET', search: { query: 'mutation { logout }' } }, 405, 'BAD_REQUEST', 'method_not_allowed'],
    [
      'a GET without a CSRF-safe header',
      { method: 'GET', search: { query: '{ me { id } }' }, headers: { 'apollo-require-preflight': '' } },
      400,
      'BAD_REQUEST',
      'csrf_prevention',
    ],
    ['a batch', { body: [{ query: '{ me { id } }' }] }, 400, 'BAD_REQUEST', 'batching_disabled'],
    ['an empty object', { body: {} }, 400, 'BAD_REQUEST', 'missing_body'],
    ['a query that is not a string', { body: { query: 5 } }, 400, 'BAD_REQUEST', 'invalid_query'],
    ['variables that are a string', { body: { query: '{ me { id } }', variables: '{}' } }, 400, 'BAD_REQUEST', 'invalid_variables'],
    ['variables that are a number', { body: { query: '{ me { id } }', variables: 5 } }, 400, 'BAD_REQUEST', 'invalid_variables'],
    [
      'an operationName that is not a string',
      { body: { query: '{ me { id } }', operationName: 5 } },
      400,
      'BAD_REQUEST',
      'invalid_operation_name',
    ],
    ['extensions that are not an object', { body: { query: '{ me { id } }', extensions: 5 } }, 400, 'BAD_REQUEST', 'invalid_extensions'],
    [
      'an Accept header that admits no JSON',
      { body: { query: '{ me { id } }' }, headers: { accept: 'application/xml' } },
      406,
      'BAD_REQUEST',
      'not_acceptable',
    ],
    [
      'GET variables that are not JSON',
      { method: 'GET', search: { query: '{ me { id } }', variables: '{' } },
      400,
      'BAD_REQUEST',
      'invalid_variables',
    ],
    [
      'GET variables that are not an object',
      { method: 'GET', search: { query: '{ me { id } }', variables: '[]' } },
      400,
      'BAD_REQUEST',
      'invalid_variables',
    ],
    [
      'a GET of another content type',
      { method: 'GET', search: { query: '{ me { id } }' }, headers: { 'content-type': 'text/plain' } },
      415,
      'BAD_REQUEST',
      'unsupported_media_type',
    ],
    ['a syntax error', { body: { query: '{ me { id }' } }, 400, 'GRAPHQL_PARSE_FAILED', undefined],
    ['an unknown field', { body: { query: '{ me { nope } }' } }, 400, 'GRAPHQL_VALIDATION_FAILED', undefined],
    [
      '@defer, which the supergraph does not define',
      { body: { query: '{ me { ... @defer { id } } }' } },
      400,
      'GRAPHQL_VALIDATION_FAILED',
      undefined,
    ],
    [
      'a variable of the wrong type',
      { body: { query: 'query($n: Int) { records(first: $n) { nodes { id } } }', variables: { n: 'x' } } },
      400,
      'BAD_USER_INPUT',
      undefined,
    ],
  ] as Array<[string, Request, number, string, string | undefined]>)(
    'answers %s with a client code',
    async (_name, request, status, code, reason) => {
      await expectRefused(await send(gateways[pipeline], request, true), status, code, reason);
    },
  );
});
