import { SignJWT, generateKeyPair, type JWTPayload } from 'jose';
import { scopesOf } from '../helpers/scopes';
import { CONTEXT_HEADER, createContextSigner } from '../../auth';
import { rawPost } from '../helpers/rawHttp';
import { postGraphQL, startStack, type Stack } from '../helpers/stack';
import { acme, adminClaims, decodePayload } from '../helpers/tokens';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ gatewayEnv: { JWKS_COOLDOWN_MS: '60000' } });
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(() => stack.resetCalls());

const QUERY = '{ me { id } records { nodes { id } } }';
const nowSeconds = () => Math.floor(Date.now() / 1000);
const claims = (overrides: Record<string, unknown> = {}): JWTPayload => adminClaims(stack, overrides);
/** Signs with the auth service's real current key: only the listed flaw is wrong. */
const withRealKey = (header: Record<string, unknown>, body: JWTPayload) =>
  new SignJWT(body)
    .setProtectedHeader({ alg: stack.signingKey.alg, kid: stack.signingKey.kid, typ: 'at+jwt', ...header } as never)
    .sign(stack.signingKey.privateKey, { crit: { b64x: true } });
const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const metric = async (name: string) => {
  const text = await (await fetch(stack.gateway.metricsUrl!)).text();
  return Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
};

describe('strict validation: refused with 401 and zero subgraph calls', () => {
  const cases: Array<[string, () => Promise<string>, string]> = [
    [
      'alg none',
      async () => `${encode({ alg: 'none', typ: 'at+jwt', kid: stack.signingKey.kid })}.${encode(claims())}.`,
      'token_malformed',
    ],
    [
      'HS256 signed with the public key as the secret',
      async () =>
        new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: stack.signingKey.kid })
          .sign(new TextEncoder().encode(JSON.stringify(stack.signingKey.publicJwk))),
      'token_algorithm_refused',
    ],
    [
      'an embedded jwk of the attacker',
      async () => {
        const attacker = await generateKeyPair('ES256', { extractable: true });
        const { exportJWK } = await import('jose');
        return new SignJWT(claims())
          .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: stack.signingKey.kid, jwk: await exportJWK(attacker.publicKey) })
          .sign(attacker.privateKey);
      },
      'token_header_refused',
    ],
    ['an unknown crit header', () => withRealKey({ crit: ['b64x'], b64x: true }, claims()), 'token_header_refused'],
    ['typ JWT (an ID token)', () => withRealKey({ typ: 'JWT' }, claims()), 'token_type_invalid'],
    ['a signed context passed off as an access token', () => withRealKey({ typ: 'gatehouse-ctx+jwt' }, claims()), 'token_type_invalid'],
    ['another issuer', () => withRealKey({}, claims({ iss: 'https://evil.example' })), 'token_claims_invalid'],
    ['another audience', () => withRealKey({}, claims({ aud: 'someone-else' })), 'token_claims_invalid'],
    ['no exp', () => withRealKey({}, claims({ exp: undefined })), 'token_claims_invalid'],
    ['expired', () => withRealKey({}, claims({ iat: nowSeconds() - 1200, exp: nowSeconds() - 60 })), 'token_expired'],
    ['not yet valid', () => withRealKey({}, claims({ nbf: nowSeconds() + 600 })), 'token_not_yet_valid'],
    ['older than the maximum age', () => withRealKey({}, claims({ iat: nowSeconds() - 7200, exp: nowSeconds() + 600 })), 'token_too_old'],
    ['an opaque refresh token', async () => 'AAAAAQAAQACAAAAAAAAAAA.dGhpcyBpcyBub3QgYSBqd3QgYXQgYWxsIG5vIHNpcg', 'token_malformed'],
  ];

  it.each(cases)('%s', async (_name, makeToken, reason) => {
    const result = await stack.gql(QUERY, { token: await makeToken() });
    expect(result.status).toBe(401);
    expect(result.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(result.body.errors?.[0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason });
    expect(stack.totalCalls()).toBe(0);
  });
});

describe('malformed Authorization headers are refused before any cryptography', () => {
  it.each([
    ['two Authorization headers', 400, 'authorization_repeated', 'invalid_request'],
    ['a non-Bearer scheme', 401, 'authorization_not_bearer', 'invalid_request'],
    ['an oversized header', 400, 'authorization_too_large', 'invalid_request'],
  ] as const)('%s', async (name, status, reason, error) => {
    const token = await stack.login('member@acme.example', 'acme');
    stack.resetCalls();
    const misses = await metric('gatehouse_token_cache_total{result="miss"}');
    const lines: Array<[string, string]> = [['content-type', 'application/json']];
    if (name === 'two Authorization headers') lines.push(['authorization', `Bearer ${token}`], ['authorization', `Bearer ${token}`]);
    if (name === 'a non-Bearer scheme') lines.push(['authorization', `Basic ${Buffer.from('member:gatehouse-demo').toString('base64')}`]);
    if (name === 'an oversized header') lines.push(['authorization', `Bearer ${'a'.repeat(9000)}.b.c`]);
    const result = await rawPost(stack.gatewayUrl, lines, JSON.stringify({ query: QUERY }));
    expect(result.status).toBe(status);
    expect(result.headers['www-authenticate']).toBe(`Bearer error="${error}"`);
    expect(result.body.errors[0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason });
    expect(stack.totalCalls()).toBe(0);
    expect(await metric('gatehouse_token_cache_total{result="miss"}')).toBe(misses); // no verification attempted
  });
});

describe('verify once, remember', () => {
  it('checks each token once per gateway instance and answers repeats from its cache', async () => {
    const token = await stack.login('member@acme.example', 'acme');
    const [misses, hits] = [
      await metric('gatehouse_token_cache_total{result="miss"}'),
      await metric('gatehouse_token_cache_total{result="hit"}'),
    ];
    for (let i = 0; i < 5; i++) expect((await stack.gql('{ me { id } }', { token })).status).toBe(200);
    expect(await metric('gatehouse_token_cache_total{result="miss"}')).toBe(misses + 1);
    expect(await metric('gatehouse_token_cache_total{result="hit"}')).toBe(hits + 4);
  });
});

describe('client-sent context headers', () => {
  it('never reach a subgraph, whatever their case or number', async () => {
    const token = await stack.login('member@acme.example', 'acme');
    stack.resetCalls();
    const forged = createContextSigner({ masterSecret: stack.contextSecret }).sign(
      {
        user: { id: acme.users.admin.id, tenantId: acme.id, roles: ['ADMIN'], scopes: scopesOf(['ADMIN']), sessionId: 's' },
        requestId: 'r',
        clientAddress: '',
      },
      'users',
      '{}',
    );
    const result = await rawPost(
      stack.gatewayUrl,
      [
        ['content-type', 'application/json'],
        ['authorization', `Bearer ${token}`],
        [CONTEXT_HEADER, forged],
        ['Gatehouse-Context', forged],
        ['GATEHOUSE-CONTEXT', 'second copy'],
      ],
      JSON.stringify({ query: '{ me { displayName } }' }),
    );
    expect(result.body.data.me.displayName).toBe('Acme Member');
    const received = stack.subgraphs.users.calls[0].headers[CONTEXT_HEADER] as string;
    expect(received).not.toContain(forged);
    expect(received).not.toContain('second copy');
    expect(decodePayload(received).sub).toBe(acme.users.member.id);
  });
});

describe('the JWKS cache', () => {
  it('a flood of unknown kids costs the auth service at most one fetch per cooldown, and valid traffic goes on', async () => {
    const valid = await stack.login('member@acme.example', 'acme');
    const attacker = await generateKeyPair('ES256');
    const flood = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: `random-kid-${i}` }).sign(attacker.privateKey),
      ),
    );
    const before = stack.jwksFetches();
    const answers = await Promise.all(flood.map((token) => stack.gql('{ me { id } }', { token })));
    expect(answers.every((answer) => answer.status === 401 && answer.body.errors?.[0].extensions?.reason === 'token_unknown_key')).toBe(
      true,
    );
    expect(stack.jwksFetches() - before).toBeLessThanOrEqual(1);
    expect((await stack.gql('{ me { id } }', { token: valid })).status).toBe(200);
  });

  it('keeps accepting valid tokens while the auth service is down, then answers 503 (not 401) past the maximum staleness', async () => {
    const outage = await stack.addGateway({ JWKS_REFRESH_MS: '100', JWKS_MAX_STALE_MS: '1500', JWKS_COOLDOWN_MS: '100' });
    const tokens = await Promise.all([1, 2, 3].map(() => stack.login('member@acme.example', 'acme')));
    await stack.subgraphs.auth.app.close(); // the auth service is gone: no JWKS, no logins
    await new Promise((resolve) => setTimeout(resolve, 500)); // several failed background refreshes
    const during = await postGraphQL(outage.url, '{ me { id } }', { token: tokens[0] });
    expect(during.status).toBe(200); // a token this gateway never saw, checked against the last good key set
    expect((await fetch(outage.url.replace('/graphql', '/health/ready'))).status).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, 1500));
    const stale = await postGraphQL(outage.url, '{ me { id } }', { token: tokens[1] });
    expect(stale.status).toBe(503);
    expect(stale.body.errors?.[0].extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'keys_unavailable' });
    expect((await fetch(outage.url.replace('/graphql', '/health/ready'))).status).toBe(503);
  });
});
