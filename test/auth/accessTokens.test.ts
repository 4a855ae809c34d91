import { SignJWT, base64url, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, type CryptoKey } from 'jose';
import {
  ACCESS_TOKEN_ALGORITHMS,
  AccessTokenError,
  createAccessTokenIssuer,
  createAccessTokenVerifier,
  createStaticKeyResolver,
  generateSigningKey,
  type KeyResolver,
  type PublishedSigningKey,
} from '../../auth';

const issuer = 'https://auth.test';
const audience = 'gatehouse';
let key: PublishedSigningKey;
let resolver: KeyResolver & { lookups: number };

beforeAll(async () => {
  key = await generateSigningKey();
  const { createPublicKey } = await import('node:crypto');
  const publicKey = createPublicKey({ key: key.publicJwk as any, format: 'jwk' });
  const fixed = createStaticKeyResolver([{ kid: key.kid, alg: key.alg, key: publicKey }]);
  resolver = {
    ...fixed,
    lookups: 0,
    async getKey(kid) {
      this.lookups += 1;
      return fixed.getKey(kid);
    },
  };
});

const ids = { user: crypto.randomUUID(), tenant: crypto.randomUUID(), session: crypto.randomUUID() };
const subject = { userId: ids.user, tenantId: ids.tenant, roles: ['MEMBER'], sessionId: ids.session };
const verifierAt = (nowMs: number, extra: Partial<Parameters<typeof createAccessTokenVerifier>[0]> = {}) =>
  createAccessTokenVerifier({ issuer, audience, keys: resolver, now: () => nowMs, ...extra });

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    return error instanceof AccessTokenError ? error.reason : `unexpected: ${(error as Error).message}`;
  }
}

function claims(now: number, overrides: Record<string, unknown> = {}) {
  return {
    iss: issuer,
    aud: audience,
    sub: ids.user,
    tenant_id: ids.tenant,
    roles: ['MEMBER'],
    sid: ids.session,
    jti: 'j1',
    iat: now,
    exp: now + 900,
    ...overrides,
  };
}

describe('access tokens', () => {
  it('issues at+jwt tokens (PS256 unless another algorithm is configured) with every required claim and verifies them', async () => {
    const now = Date.now();
    const { token, expiresIn } = await createAccessTokenIssuer({ issuer, audience, signingKey: key, now: () => now }).issue({
      ...subject,
      amr: ['pwd'],
      authTime: 5,
    });
    expect(expiresIn).toBe(900);
    const principal = await verifierAt(now).verify(token);
    expect(principal).toMatchObject({
      userId: ids.user,
      tenantId: ids.tenant,
      roles: ['MEMBER'],
      sessionId: ids.session,
      issuer,
      amr: ['pwd'],
      authTime: 5,
    });
    expect(principal.expiresAt - principal.issuedAt).toBe(900);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'PS256', kid: key.kid, typ: 'at+jwt' });
  });

  it('issues and verifies tokens of every algorithm a key may have, the algorithm chosen by the key', async () => {
    const now = Date.now();
    for (const alg of ACCESS_TOKEN_ALGORITHMS) {
      const other = await generateSigningKey(alg);
      const keys = createStaticKeyResolver([{ kid: other.kid, alg, key: (await importJWK(other.publicJwk, alg)) as CryptoKey }]);
      const { token } = await createAccessTokenIssuer({ issuer, audience, signingKey: other, now: () => now }).issue(subject);
      expect(decodeProtectedHeader(token).alg).toBe(alg);
      const verifier = createAccessTokenVerifier({ issuer, audience, keys, now: () => now });
      expect(await verifier.verify(token)).toMatchObject({ userId: ids.user, tenantId: ids.tenant });
      // The same key under another algorithm's name is refused before any signature check.
      const renamed = createStaticKeyResolver([{ ...keys.heldKey(other.kid)!, alg: alg === 'PS256' ? 'RS256' : 'PS256' }]);
      expect(await reasonOf(createAccessTokenVerifier({ issuer, audience, keys: renamed, now: () => now }).verify(token))).toBe(
        'token_algorithm_refused',
      );
    }
  });

  it('checks the signature once per token: a repeat is answered from the cache', async () => {
    const now = Date.now();
    const { token } = await createAccessTokenIssuer({ issuer, audience, signingKey: key, now: () => now }).issue(subject);
    const verifier = verifierAt(now);
    const before = resolver.lookups;
    await verifier.verify(token);
    await verifier.verify(token);
    await verifier.verify(token);
    expect(resolver.lookups - before).toBe(1);
  });

  it('keeps the cache bounded whatever the number of distinct tokens', async () => {
    const now = Date.now();
    const verifier = verifierAt(now, { cacheSize: 5 });
    const tokenIssuer = createAccessTokenIssuer({ issuer, audience, signingKey: key, now: () => now });
    for (let i = 0; i < 20; i++) await verifier.verify((await tokenIssuer.issue({ ...subject, sessionId: crypto.randomUUID() })).token);
    expect(verifier.cacheSize).toBe(5);
  });

  it('refuses a cached token once it has expired', async () => {
    let now = Date.now();
    const { token } = await createAccessTokenIssuer({ issuer, audience, signingKey: key, now: () => now }).issue(subject);
    const verifier = createAccessTokenVerifier({ issuer, audience, keys: resolver, now: () => now, clockToleranceSeconds: 5 });
    await verifier.verify(token);
    now += 906_000;
    expect(await reasonOf(verifier.verify(token))).toBe('token_expired');
  });

  it('answers a cache hit exactly as a fresh check at every instant around the exp, nbf and maximum-age boundaries', async () => {
    const issuedAt = Math.floor(Date.now() / 1000);
    const sign = (body: Record<string, unknown>) =>
      new SignJWT(claims(issuedAt, body)).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }).sign(key.privateKey);
    const cases = [
      { token: await sign({ exp: issuedAt + 600 }), boundary: issuedAt + 600 + 5 }, // exp + tolerance
      { token: await sign({ exp: issuedAt + 900, nbf: issuedAt + 60 }), boundary: issuedAt + 60 - 5 }, // nbf − tolerance
      { token: await sign({ exp: issuedAt + 900 }), boundary: issuedAt + 300 + 5 + 1, maxTokenAgeSeconds: 300 }, // too old
    ];
    for (const { token, boundary, maxTokenAgeSeconds } of cases) {
      let now = 0;
      const clock = () => now;
      for (let offsetMs = -2000; offsetMs <= 2000; offsetMs += 250) {
        // Remembered at an instant where the token is valid, then asked again across the boundary: a hit.
        const cached = createAccessTokenVerifier({ issuer, audience, keys: resolver, now: clock, maxTokenAgeSeconds });
        now = (issuedAt + 61) * 1000;
        await cached.verify(token);
        now = boundary * 1000 + offsetMs;
        const lookups = resolver.lookups;
        const hit = await reasonOf(cached.verify(token));
        expect(resolver.lookups).toBe(lookups);
        const fresh = createAccessTokenVerifier({ issuer, audience, keys: resolver, now: clock, maxTokenAgeSeconds });
        expect(`${offsetMs} ms: ${hit}`).toBe(`${offsetMs} ms: ${await reasonOf(fresh.verify(token))}`);
      }
    }
  });

  describe('refuses', () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const sign = (header: Record<string, unknown>, body: Record<string, unknown>) =>
      new SignJWT(body)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header } as any)
        .sign(key.privateKey, { crit: { exp2: true } });

    it.each([
      ['the wrong issuer', {}, { iss: 'https://evil.test' }, 'token_claims_invalid'],
      ['the wrong audience', {}, { aud: 'other' }, 'token_claims_invalid'],
      ['the wrong typ (an ID token)', { typ: 'JWT' }, {}, 'token_type_invalid'],
      ['a missing exp', {}, { exp: undefined }, 'token_claims_invalid'],
      ['an expired token', {}, { iat: nowSeconds - 2000, exp: nowSeconds - 100 }, 'token_expired'],
      ['a not-yet-valid token', {}, { nbf: nowSeconds + 600 }, 'token_not_yet_valid'],
      ['a token older than the maximum age', {}, { iat: nowSeconds - 7200, exp: nowSeconds + 100 }, 'token_too_old'],
      ['an embedded jwk header', { jwk: { kty: 'EC' } }, {}, 'token_header_refused'],
      ['a jku header', { jku: 'https://evil.test/jwks' }, {}, 'token_header_refused'],
      ['an x5u header', { x5u: 'https://evil.test/cert' }, {}, 'token_header_refused'],
      ['an unknown crit header', { crit: ['exp2'], exp2: 1 }, {}, 'token_header_refused'],
      ['an unknown kid', { kid: 'unknown' }, {}, 'token_unknown_key'],
      ['missing roles or tenant', {}, { tenant_id: undefined }, 'token_claims_invalid'],
    ])('%s', async (_name, header, overrides, reason) => {
      const body = claims(nowSeconds, overrides);
      for (const name of Object.keys(body)) if ((body as any)[name] === undefined) delete (body as any)[name];
      expect(await reasonOf(verifierAt(Date.now()).verify(await sign(header, body)))).toBe(reason);
    });

    it('alg none', async () => {
      const encode = (value: object) => base64url.encode(JSON.stringify(value));
      const token = `${encode({ alg: 'none', kid: key.kid, typ: 'at+jwt' })}.${encode(claims(nowSeconds))}.`;
      expect(await reasonOf(verifierAt(Date.now()).verify(token))).toBe('token_algorithm_refused');
    });

    it('HS256 signed with the public key as the secret (key confusion)', async () => {
      const secret = new TextEncoder().encode(JSON.stringify(key.publicJwk));
      const token = await new SignJWT(claims(nowSeconds)).setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' }).sign(secret);
      expect(await reasonOf(verifierAt(Date.now()).verify(token))).toBe('token_algorithm_refused');
    });

    it.each(ACCESS_TOKEN_ALGORITHMS)(
      '%s: another key of the algorithm, one flipped bit of the signature, or a payload changed after signing',
      async (alg) => {
        const now = Date.now();
        const own = await generateSigningKey(alg);
        const keys = createStaticKeyResolver([{ kid: own.kid, alg, key: (await importJWK(own.publicJwk, alg)) as CryptoKey }]);
        const verifier = createAccessTokenVerifier({ issuer, audience, keys, now: () => now });
        const issue = (signingKey: PublishedSigningKey) =>
          createAccessTokenIssuer({ issuer, audience, signingKey, now: () => now })
            .issue(subject)
            .then((issued) => issued.token);
        const token = await issue(own);
        const [header, payload, signature] = token.split('.');
        const impostor = (await issue({ ...(await generateSigningKey(alg)), kid: own.kid })).split('.');
        const flipped = Buffer.from(signature, 'base64url');
        flipped[flipped.length - 1] ^= 1;
        const otherUser = base64url.encode(
          JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'someone-else' }),
        );
        for (const forged of [
          `${header}.${impostor[1]}.${impostor[2]}`,
          `${header}.${payload}.${flipped.toString('base64url')}`,
          `${header}.${otherUser}.${signature}`,
          `${header}.${payload}.`,
        ])
          expect(await reasonOf(verifier.verify(forged))).toBe('token_signature_invalid');
        expect(await verifier.verify(token)).toMatchObject({ userId: ids.user });
      },
    );

    it('an ECDSA signature in DER instead of the JWS encoding, and a signature that is not base64url', async () => {
      const { createSign } = await import('node:crypto');
      const own = await generateSigningKey('ES256');
      const keys = createStaticKeyResolver([{ kid: own.kid, alg: 'ES256', key: (await importJWK(own.publicJwk, 'ES256')) as CryptoKey }]);
      const verifier = createAccessTokenVerifier({ issuer, audience, keys });
      const { token } = await createAccessTokenIssuer({ issuer, audience, signingKey: own }).issue(subject);
      const [header, payload] = token.split('.');
      const der = createSign('sha256')
        .update(`${header}.${payload}`)
        .sign(own.privateKey as never);
      expect(await reasonOf(verifier.verify(`${header}.${payload}.${der.toString('base64url')}`))).toBe('token_signature_invalid');
      expect(await reasonOf(verifier.verify(`${header}.${payload}.${token.split('.')[2].slice(0, -2)}+/`))).toBe('token_malformed');
    });

    it('an RSA key under 2048 bits, even with a valid signature', async () => {
      const { generateKeyPairSync, createSign } = await import('node:crypto');
      const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const keys = createStaticKeyResolver([{ kid: 'weak', alg: 'RS256', key: weak.publicKey }]);
      const encode = (value: object) => base64url.encode(JSON.stringify(value));
      const input = `${encode({ alg: 'RS256', kid: 'weak', typ: 'at+jwt' })}.${encode(claims(nowSeconds))}`;
      const signature = createSign('sha256').update(input).sign(weak.privateKey).toString('base64url');
      const verifier = createAccessTokenVerifier({ issuer, audience, keys });
      expect(await reasonOf(verifier.verify(`${input}.${signature}`))).toBe('token_algorithm_refused');
    });

    it('a token signed by another key under the same kid', async () => {
      const other = await generateKeyPair(key.alg);
      const token = await new SignJWT(claims(nowSeconds))
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
        .sign(other.privateKey);
      expect(await reasonOf(verifierAt(Date.now()).verify(token))).toBe('token_signature_invalid');
      expect(await exportJWK(other.publicKey)).not.toEqual(key.publicJwk);
    });
  });

  it('validates its options before any signing', () => {
    expect(() => createAccessTokenIssuer({ issuer: '', audience, signingKey: key })).toThrow(TypeError);
    expect(() => createAccessTokenIssuer({ issuer, audience, signingKey: { ...key, alg: 'HS256' as any } })).toThrow(TypeError);
    expect(() => createAccessTokenVerifier({ issuer, audience, keys: {} as any })).toThrow(TypeError);
  });
});
