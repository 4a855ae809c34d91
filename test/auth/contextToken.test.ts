import { createHmac } from 'node:crypto';
import { scopesOf } from '../helpers/scopes';
import { compactVerify } from 'jose';
import {
  CONTEXT_MAX_TTL_SECONDS,
  ContextTokenError,
  createContextSigner,
  createContextVerifier,
  deriveContextKey,
  hashBody,
  type ForwardedContext,
} from '../../auth';

const master = Buffer.alloc(32, 1).toString('base64url');
const body = JSON.stringify({ query: '{ me { id } }' });
const user: ForwardedContext = {
  user: {
    id: 'u1',
    tenantId: 't1',
    roles: ['MEMBER'],
    scopes: scopesOf(['MEMBER']),
    sessionId: 's1',
    amr: ['pwd'],
    authTime: 1_700_000_000,
  },
  requestId: 'req-1',
  clientAddress: '10.0.0.1',
};
const verifierFor = (audience: string, extra: Partial<Parameters<typeof createContextVerifier>[0]> = {}) =>
  createContextVerifier({ key: deriveContextKey(master, audience), audience, ...extra });

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof ContextTokenError ? error.reason : `unexpected ${(error as Error).message}`;
  }
  return undefined;
}

describe('the signed context', () => {
  const signer = createContextSigner({ masterSecret: master });

  it('round-trips the caller, tenant, roles, session, client address and request id', () => {
    expect(verifierFor('users').verify(signer.sign(user, 'users', body), body)).toEqual(user);
  });

  it('carries an anonymous caller as user null, and an external issuer when there is one', () => {
    expect(verifierFor('auth').verify(signer.sign({ user: null, requestId: 'r', clientAddress: '' }, 'auth', body), body).user).toBeNull();
    const external = { ...user, user: { ...user.user!, issuer: 'https://idp.example' } };
    expect(verifierFor('users').verify(signer.sign(external, 'users', body), body).user?.issuer).toBe('https://idp.example');
  });

  it('is a standard compact JWS that any JOSE library verifies with the derived key, its body hash a plain claim', async () => {
    const jws = signer.sign(user, 'records', body);
    const { protectedHeader, payload } = await compactVerify(jws, deriveContextKey(master, 'records'));
    expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'gatehouse-ctx+jwt' });
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({ aud: 'records', sub: 'u1', tid: 't1', bh: hashBody(body) });
  });

  it('is bound to the body it was made for: replayed with another query it is refused', () => {
    const jws = signer.sign(user, 'users', body);
    expect(reasonOf(() => verifierFor('users').verify(jws, JSON.stringify({ query: '{ users { nodes { email } } }' })))).toBe(
      'context_body_mismatch',
    );
    expect(reasonOf(() => verifierFor('users').verify(jws, body))).toBeUndefined();
  });

  it('checks a repeated header afresh (nothing is cached: every gateway call is signed anew), body check included', () => {
    const verifier = verifierFor('users');
    const jws = signer.sign(user, 'users', body);
    const first = verifier.verifyHeader(jws);
    const again = verifier.verifyHeader(jws);
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
    expect(reasonOf(() => verifier.checkBody(verifier.verifyHeader(jws), hashBody('{}')))).toBe('context_body_mismatch');
  });

  it('rejects a context signed for another subgraph', () => {
    expect(reasonOf(() => verifierFor('records').verify(signer.sign(user, 'users', body), body))).toBe('context_signature_invalid');
  });

  it('rejects a context for another audience even when signed with this key (the audience is checked too)', () => {
    const key = deriveContextKey(master, 'records');
    const [header] = signer.sign(user, 'records', body).split('.');
    const now = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(
      JSON.stringify({ iss: 'gatehouse-gateway', aud: 'users', iat: now, exp: now + 30, rid: 'r', cip: '', bh: hashBody(body) }),
    ).toString('base64url');
    const signature = createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url');
    expect(reasonOf(() => verifierFor('records').verify(`${header}.${payload}.${signature}`, body))).toBe('context_wrong_audience');
  });

  it('gives each subgraph a key that cannot forge contexts for another subgraph', () => {
    const usersKey = deriveContextKey(master, 'users');
    const recordsKey = deriveContextKey(master, 'records');
    expect(usersKey.equals(recordsKey)).toBe(false);
    // A compromised users subgraph signs with its own key: records refuses it.
    const [header, payload] = signer.sign(user, 'records', body).split('.');
    const forged = `${header}.${payload}.${createHmac('sha256', usersKey).update(`${header}.${payload}`).digest('base64url')}`;
    expect(reasonOf(() => verifierFor('records').verify(forged, body))).toBe('context_signature_invalid');
  });

  it("carries the caller's scopes, and refuses a signed-in context without them (signed with the right key)", () => {
    expect(verifierFor('users').verify(signer.sign(user, 'users', body), body).user?.scopes).toEqual(scopesOf(['MEMBER']));
    const [header, payload] = signer.sign(user, 'users', body).split('.');
    const { scp: _scp, ...claims } = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const unscoped = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const resigned = `${unscoped}.${createHmac('sha256', deriveContextKey(master, 'users')).update(unscoped).digest('base64url')}`;
    expect(reasonOf(() => verifierFor('users').verify(resigned, body))).toBe('context_claims_invalid');
  });

  it('rejects an altered payload', () => {
    const [header, payload, signature] = signer.sign(user, 'users', body).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const altered = Buffer.from(JSON.stringify({ ...claims, roles: ['ADMIN'] })).toString('base64url');
    expect(reasonOf(() => verifierFor('users').verify(`${header}.${altered}.${signature}`, body))).toBe('context_signature_invalid');
  });

  it('rejects a context once expired, even one it accepted before, and refuses to make one that lives longer than 60 seconds', () => {
    let now = Date.now();
    const clockSigner = createContextSigner({ masterSecret: master, ttlSeconds: 30, now: () => now });
    const verifier = verifierFor('users', { clockToleranceSeconds: 5, now: () => now });
    const jws = clockSigner.sign(user, 'users', body);
    now += 34_000;
    expect(reasonOf(() => verifier.verify(jws, body))).toBeUndefined();
    now += 2_000;
    expect(reasonOf(() => verifier.verify(jws, body))).toBe('context_expired');
    expect(() => createContextSigner({ masterSecret: master, ttlSeconds: CONTEXT_MAX_TTL_SECONDS + 1 })).toThrow(TypeError);
  });

  it('rejects missing, malformed and unsigned headers', () => {
    const verifier = verifierFor('users');
    const [header, payload] = signer.sign(user, 'users', body).split('.');
    expect(reasonOf(() => verifier.verify(undefined, body))).toBe('context_missing');
    expect(reasonOf(() => verifier.verify(['a', 'b'], body))).toBe('context_malformed');
    expect(reasonOf(() => verifier.verify('nodots', body))).toBe('context_malformed');
    expect(reasonOf(() => verifier.verify(`${header}.${payload}.`, body))).toBe('context_signature_invalid');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'gatehouse-ctx+jwt' })).toString('base64url');
    expect(reasonOf(() => verifier.verify(`${none}.${payload}.`, body))).toBe('context_signature_invalid');
  });

  it('refuses secrets shorter than 32 bytes at construction', () => {
    expect(() => createContextSigner({ masterSecret: 'short' })).toThrow(TypeError);
    expect(() => createContextVerifier({ key: Buffer.alloc(16), audience: 'users' })).toThrow(TypeError);
  });
});
