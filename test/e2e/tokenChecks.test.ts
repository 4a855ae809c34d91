import { generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import { CompactSign, SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import { generateSigningKey, type PublishedSigningKey } from '../../auth';
import { eventually } from '../helpers/eventually';
import { startJwksServer } from '../helpers/jwksServer';
import { postGraphQL, startStack, type Stack } from '../helpers/stack';
import { adminClaims, decodePayload } from '../helpers/tokens';

// Every gateway here trusts a key set this test publishes (the JWKS server below), on a clock the test can move.
let stack: Stack;
let jwks: Awaited<ReturnType<typeof startJwksServer>>;
let first: PublishedSigningKey;
let second: PublishedSigningKey;
let third: PublishedSigningKey;

beforeAll(async () => {
  stack = await startStack();
  [first, second, third] = await Promise.all([generateSigningKey(), generateSigningKey(), generateSigningKey()]);
  jwks = await startJwksServer([]);
});
afterAll(async () => {
  await stack?.close();
  await jwks?.close();
});
beforeEach(() => {
  jwks.setKeys([first.publicJwk, second.publicJwk]);
  jwks.setUp(true);
  jwks.setResponder(undefined);
  stack.resetCalls();
});

const QUERY = '{ me { id } }';
const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * A gateway on the test's key set: no background refresh, every unknown kid refetches, its own clock and log (and no
 * supergraph polling: a dozen gateways in one process would each watch the file).
 */
async function startGateway(env: Record<string, string> = {}) {
  let offsetMs = 0;
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const { url, gateway } = await stack.addGateway(
    { AUTH_JWKS_URL: jwks.url, JWKS_REFRESH_MS: '0', JWKS_COOLDOWN_MS: '0', SUPERGRAPH_POLL_MS: '0', ...env },
    { now: () => Date.now() + offsetMs, logger: { stream, level: 'info' } },
  );
  const metrics = async () => (await fetch(gateway.metricsUrl!)).text();
  return {
    logs,
    /** Moves this gateway's clock forward. */
    advance(seconds: number) {
      offsetMs += seconds * 1000;
    },
    query: (token: string, query = QUERY) => postGraphQL(url, query, { token }),
    async metric(name: string): Promise<number> {
      const line = new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)`, 'm').exec(await metrics());
      return Number(line?.[1] ?? 0);
    },
  };
}
type TestGateway = Awaited<ReturnType<typeof startGateway>>;

/** A token of acme's admin signed by `key` under `kid` (default the key's own); `overrides` change claims. */
const mint = (key: PublishedSigningKey, overrides: Record<string, unknown> = {}, kid = key.kid) =>
  new SignJWT(adminClaims(stack, overrides)).setProtectedHeader({ alg: key.alg, kid, typ: 'at+jwt' }).sign(key.privateKey);

/** Signs a payload given as raw JSON text (for numbers no JSON.stringify would write, such as 1e400). */
const mintRaw = (key: PublishedSigningKey, payload: string) =>
  new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }).sign(key.privateKey);

async function expectRefused(gateway: TestGateway, token: string, status: number, code: string, reason: string) {
  stack.resetCalls();
  const result = await gateway.query(token);
  expect(result.status).toBe(status);
  expect(result.body.errors?.[0].extensions).toEqual({ code, reason });
  expect(stack.totalCalls()).toBe(0);
}

async function expectAccepted(gateway: TestGateway, token: string) {
  const result = await gateway.query(token);
  expect(result.status).toBe(200);
  expect(result.body.errors).toBeUndefined();
  expect(result.body.data.me.id).toBe(decodePayload(token).sub);
}

/** A fetch of the key set, made to happen now: a token under a kid nobody publishes (the cooldown is 0). */
async function refetchKeys(gateway: TestGateway) {
  const before = jwks.fetches;
  await expectRefused(gateway, await mint(third, {}, 'not-published'), 401, 'UNAUTHENTICATED', 'token_unknown_key');
  expect(jwks.fetches).toBe(before + 1);
}

describe('a cache hit accepts only what a fresh check would', () => {
  it('refuses a remembered token once it is older than MAX_TOKEN_AGE_SECONDS, like a new token of that age', async () => {
    const gateway = await startGateway({ MAX_TOKEN_AGE_SECONDS: '600' });
    const iat = nowSeconds();
    const token = await mint(first, { iat, exp: iat + 900 });
    await expectAccepted(gateway, token);
    const hits = await gateway.metric('gatehouse_token_cache_total{result="hit"}');
    await expectAccepted(gateway, token);
    expect(await gateway.metric('gatehouse_token_cache_total{result="hit"}')).toBe(hits + 1);

    gateway.advance(606); // 600 s of age and 5 s of tolerance have passed; exp has not
    await expectRefused(gateway, token, 401, 'UNAUTHENTICATED', 'token_too_old');
    await expectRefused(gateway, await mint(first, { iat, exp: iat + 900 }), 401, 'UNAUTHENTICATED', 'token_too_old');
  });

  it('refuses a remembered token once its expiry has passed', async () => {
    const gateway = await startGateway();
    const token = await mint(first, { exp: nowSeconds() + 60 });
    await expectAccepted(gateway, token);
    gateway.advance(66);
    await expectRefused(gateway, token, 401, 'UNAUTHENTICATED', 'token_expired');
  });

  it('refuses a remembered token once its key is no longer published, like a new token under that key', async () => {
    const gateway = await startGateway();
    const token = await mint(first);
    const other = await mint(second);
    for (const each of [token, token, other]) await expectAccepted(gateway, each);

    // A fetch that leaves the keys as they were keeps every verdict: the next request is a hit, not a new check.
    await refetchKeys(gateway);
    const [hits, misses] = [
      await gateway.metric('gatehouse_token_cache_total{result="hit"}'),
      await gateway.metric('gatehouse_token_cache_total{result="miss"}'),
    ];
    await expectAccepted(gateway, token);
    expect(await gateway.metric('gatehouse_token_cache_total{result="hit"}')).toBe(hits + 1);
    expect(await gateway.metric('gatehouse_token_cache_total{result="miss"}')).toBe(misses);

    jwks.setKeys([second.publicJwk]);
    await refetchKeys(gateway);
    await expectRefused(gateway, token, 401, 'UNAUTHENTICATED', 'token_unknown_key');
    await expectRefused(gateway, await mint(first), 401, 'UNAUTHENTICATED', 'token_unknown_key');
    await expectAccepted(gateway, other); // the key still published still works
  });

  it('answers 503 to a remembered token once the key set is stale past JWKS_MAX_STALE_MS, like a new token, until it is fresh again', async () => {
    const gateway = await startGateway({ JWKS_MAX_STALE_MS: '60000' });
    const token = await mint(first);
    await expectAccepted(gateway, token);
    await expectAccepted(gateway, token);

    jwks.setUp(false);
    gateway.advance(61);
    await expectRefused(gateway, token, 503, 'SERVICE_UNAVAILABLE', 'keys_unavailable');
    await expectRefused(gateway, await mint(first), 503, 'SERVICE_UNAVAILABLE', 'keys_unavailable');

    jwks.setUp(true);
    await refetchKeys(gateway);
    await expectAccepted(gateway, token);
  });
});

describe('lifetimes are whole NumericDates within bounds', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway();
  });

  it.each([
    ['exp 1e308', () => mint(first, { exp: 1e308 })],
    [
      'an exp that parses to Infinity',
      () => mintRaw(first, JSON.stringify(adminClaims(stack, { exp: 0 })).replace('"exp":0', '"exp":1e400')),
    ],
    ['a fractional exp', () => mint(first, { exp: nowSeconds() + 600.5 })],
    ['an iat that is not a whole number', () => mint(first, { iat: nowSeconds() - 0.25 })],
    ['a negative nbf', () => mint(first, { nbf: -1 })],
    ['an exp before the iat', () => mint(first, { iat: nowSeconds(), exp: nowSeconds() - 1 })],
  ])('refuses %s, every time', async (_name, makeToken) => {
    const token = await makeToken();
    await expectRefused(gateway, token, 401, 'UNAUTHENTICATED', 'token_claims_invalid');
    await expectRefused(gateway, token, 401, 'UNAUTHENTICATED', 'token_claims_invalid');
  });

  it('refuses a lifetime (exp − iat) over MAX_TOKEN_LIFETIME_SECONDS and accepts one at it', async () => {
    const iat = nowSeconds();
    await expectRefused(gateway, await mint(first, { iat, exp: iat + 1201 }), 401, 'UNAUTHENTICATED', 'token_lifetime_too_long');
    await expectAccepted(gateway, await mint(first, { iat, exp: iat + 1200 }));

    const longer = await startGateway({ MAX_TOKEN_LIFETIME_SECONDS: '3600' });
    await expectAccepted(longer, await mint(first, { iat, exp: iat + 3600 }));
  });
});

describe('only real identities reach the subgraphs', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway();
  });

  it.each([
    ['an empty sub', { sub: '' }],
    ['a sub that is not a user id', { sub: 'admin' }],
    ['an empty tenant', { tenant_id: '' }],
    ['a tenant that is not an id', { tenant_id: 'acme' }],
    ['an empty session', { sid: '' }],
    ['an empty jti', { jti: '' }],
  ])('refuses %s with 401 and no subgraph call', async (_name, overrides) => {
    await expectRefused(gateway, await mint(first, overrides), 401, 'UNAUTHENTICATED', 'token_claims_invalid');
  });

  it('drops a role name Gatehouse does not have, with a log line, never an internal error', async () => {
    // A live session of acme's member (viewer checks it), in a token of the test's key with two unknown roles.
    const real = decodePayload(await stack.login('member@acme.example', 'acme'));
    const token = await mint(first, { sub: real.sub, sid: real.sid, roles: ['MEMBER', 'SUPERUSER', 'constructor'] });
    const result = await gateway.query(token, '{ viewer { userId roles permissions } }');
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data.viewer).toMatchObject({ userId: real.sub, roles: ['MEMBER'] });
    expect(result.body.data.viewer.permissions).not.toContain('user:manage');
    const line = gateway.logs.find((text) => text.includes('access token names unknown roles'));
    expect(line).toContain('SUPERUSER');
    expect(gateway.logs.join('')).not.toContain(token);
    expect(await gateway.metric('gatehouse_token_unknown_roles_total')).toBe(1);
  });
});

describe('one bad key never poisons the key set', () => {
  /** Keys that cannot verify tokens, each for one reason. */
  async function unusableKeys(): Promise<JWK[]> {
    const ec = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }) as JWK;
    return [
      { ...third.publicJwk, kid: 'sign-only', key_ops: ['sign'] },
      { ...ec, kid: 'ec-labelled-ps256', alg: 'PS256' },
      { ...third.publicJwk, kid: 'for-encryption', use: 'enc' },
      { ...weak, kid: 'weak-rsa', alg: 'PS256' },
      { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ', kid: 'hmac', alg: 'HS256' },
      { ...third.publicJwk, kid: undefined },
    ];
  }

  it('learns a good key published beside unusable ones, leaving out each of those, logged and counted by reason', async () => {
    jwks.setKeys([first.publicJwk]);
    const gateway = await startGateway();
    await expectAccepted(gateway, await mint(first));

    jwks.setKeys([first.publicJwk, ...(await unusableKeys()), second.publicJwk]);
    await expectAccepted(gateway, await mint(second)); // an unknown kid: fetched, and learned
    await expectAccepted(gateway, await mint(first));

    const skipped = (reason: string) => gateway.metric(`gatehouse_jwks_keys_skipped{issuer="${stack.issuer}",reason="${reason}"}`);
    const counts = async () =>
      Object.fromEntries(
        await Promise.all(
          ['not_for_verification', 'key_invalid', 'private_key', 'kid_missing', 'kid_duplicate'].map(async (reason) => [
            reason,
            await skipped(reason),
          ]),
        ),
      );
    expect(await counts()).toEqual({ not_for_verification: 2, key_invalid: 2, private_key: 1, kid_missing: 1, kid_duplicate: 0 });
    const warnings = () => gateway.logs.filter((text) => text.includes('cannot verify tokens'));
    const line = JSON.parse(warnings()[0]);
    expect(line.skipped).toEqual(
      expect.arrayContaining([
        { kid: 'sign-only', reason: 'not_for_verification' },
        { kid: 'ec-labelled-ps256', reason: 'key_invalid' },
        { kid: 'weak-rsa', reason: 'key_invalid' },
      ]),
    );
    expect(gateway.logs.join('')).not.toContain('c2VjcmV0LXNlY3JldC1zZWNyZXQ'); // no key material in the log

    // A token under a left-out kid finds no key; the fetch it causes sees the same set: counted alike, not logged again.
    await expectRefused(gateway, await mint(third, {}, 'sign-only'), 401, 'UNAUTHENTICATED', 'token_unknown_key');
    expect(await counts()).toEqual({ not_for_verification: 2, key_invalid: 2, private_key: 1, kid_missing: 1, kid_duplicate: 0 });
    expect(warnings()).toHaveLength(1);

    // Once the publisher drops them, nothing is left out.
    jwks.setKeys([first.publicJwk, second.publicJwk]);
    await refetchKeys(gateway);
    expect(await counts()).toEqual({ not_for_verification: 0, key_invalid: 0, private_key: 0, kid_missing: 0, kid_duplicate: 0 });
  });

  it('refuses a kid published twice: a token under it finds no key, whichever key signed it', async () => {
    const gateway = await startGateway();
    await expectAccepted(gateway, await mint(second));

    jwks.setKeys([first.publicJwk, second.publicJwk, { ...third.publicJwk, kid: second.kid }]);
    await refetchKeys(gateway);
    await expectRefused(gateway, await mint(second), 401, 'UNAUTHENTICATED', 'token_unknown_key');
    await expectRefused(gateway, await mint(third, {}, second.kid), 401, 'UNAUTHENTICATED', 'token_unknown_key');
    await expectAccepted(gateway, await mint(first));
    expect(gateway.logs.some((text) => text.includes('"kid_duplicate"') && text.includes(second.kid))).toBe(true);
  });

  it('stops reading a key set answer after 1 MiB and keeps using the held set', async () => {
    const gateway = await startGateway();
    await expectAccepted(gateway, await mint(first));
    const errors = await gateway.metric('gatehouse_jwks_fetches_total{result="error",reason="unknown_kid"}');

    // 50 MB of valid JSON, chunked (no length announced), written only as fast as the gateway reads it.
    const chunk = 'a'.repeat(64 * 1024);
    jwks.setResponder(async (response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write(`{"keys":${JSON.stringify([first.publicJwk, third.publicJwk])},"padding":"`);
      for (let sent = 0; sent < 50 * 1024 * 1024 && !response.destroyed; sent += chunk.length) {
        if (!response.write(chunk)) {
          await new Promise<void>((resolve) => {
            const go = () => {
              response.off('drain', go).off('close', go);
              resolve();
            };
            response.on('drain', go).on('close', go);
          });
        }
      }
      response.end('"}');
    });
    await expectRefused(gateway, await mint(third), 401, 'UNAUTHENTICATED', 'token_unknown_key');
    await eventually(() => jwks.lastAnswerComplete !== undefined);
    expect(jwks.lastAnswerComplete).toBe(false); // the gateway hung up; the 50 MB were never read
    expect(await gateway.metric('gatehouse_jwks_fetches_total{result="error",reason="unknown_kid"}')).toBe(errors + 1);
    await expectAccepted(gateway, await mint(first));
  });

  it('refuses a key set of more than 100 keys and keeps using the held set', async () => {
    jwks.setKeys([first.publicJwk]);
    const gateway = await startGateway();
    await expectAccepted(gateway, await mint(first));

    jwks.setKeys([second.publicJwk, ...Array.from({ length: 100 }, (_, i) => ({ ...third.publicJwk, kid: `filler-${i}` }))]);
    await expectRefused(gateway, await mint(second), 401, 'UNAUTHENTICATED', 'token_unknown_key');
    await expectAccepted(gateway, await mint(first));
    expect(gateway.logs.some((text) => text.includes('key set fetch failed') && text.includes('more than 100'))).toBe(true);
  });
});

// The claims helper must keep producing valid tokens for the cases above to mean anything.
it('accepts the unaltered token every refusal above starts from', async () => {
  const gateway = await startGateway();
  const claims: JWTPayload = adminClaims(stack);
  const result = await gateway.query(
    await new SignJWT(claims).setProtectedHeader({ alg: first.alg, kid: first.kid, typ: 'at+jwt' }).sign(first.privateKey),
  );
  expect(result.status).toBe(200);
  expect(result.body).toEqual({ data: { me: { id: claims.sub } } });
  expect(stack.totalCalls()).toBeGreaterThan(0);
});
