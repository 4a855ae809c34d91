import { createHmac } from 'node:crypto';
import { compactVerify } from 'jose';
import {
  CONTEXT_MAX_TTL_SECONDS,
  ContextTokenError,
  createContextSigner,
  createContextVerifier,
  deriveContextKey,
  type ForwardedContext,
} from '../../auth';

const master = Buffer.alloc(32, 1).toString('base64url');
const user: ForwardedContext = {
  user: { id: 'u1', tenantId: 't1', roles: ['MEMBER'], sessionId: 's1', amr: ['pwd'], authTime: 1_700_000_000 },
  requestId: 'req-1',
  clientAddress: '10.0.0.1',
};

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
    const verifier = createContextVerifier({ key: deriveContextKey(master, 'users'), audience: 'users' });
    expect(verifier.verify(signer.sign(user, 'users'))).toEqual(user);
  });

  it('carries an anonymous caller as user null', () => {
    const verifier = createContextVerifier({ key: deriveContextKey(master, 'auth'), audience: 'auth' });
    expect(verifier.verify(signer.sign({ user: null, requestId: 'r', clientAddress: '' }, 'auth')).user).toBeNull();
  });

  it('is a standard compact JWS that any JOSE library verifies with the derived key', async () => {
    const jws = signer.sign(user, 'records');
    const { protectedHeader, payload } = await compactVerify(jws, deriveContextKey(master, 'records'));
    expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'gatehouse-ctx+jwt' });
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({ aud: 'records', sub: 'u1', tid: 't1' });
  });

  it('rejects a context signed for another subgraph', () => {
    const verifier = createContextVerifier({ key: deriveContextKey(master, 'records'), audience: 'records' });
    expect(reasonOf(() => verifier.verify(signer.sign(user, 'users')))).toBe('context_signature_invalid');
  });

  it('rejects a context for another audience even when signed with this key (the audience is checked too)', () => {
    const key = deriveContextKey(master, 'records');
    const verifier = createContextVerifier({ key, audience: 'records' });
    const [header] = signer.sign(user, 'records').split('.');
    const now = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(
      JSON.stringify({ iss: 'gatehouse-gateway', aud: 'users', iat: now, exp: now + 30, rid: 'r', cip: '' }),
    ).toString('base64url');
    const signature = createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url');
    expect(reasonOf(() => verifier.verify(`${header}.${payload}.${signature}`))).toBe('context_wrong_audience');
  });

  it('gives each subgraph a key that cannot forge contexts for another subgraph', () => {
    const usersKey = deriveContextKey(master, 'users');
    const recordsKey = deriveContextKey(master, 'records');
    expect(usersKey.equals(recordsKey)).toBe(false);
    // A compromised users subgraph signs with its own key: records refuses it.
    const [header, payload] = signer.sign(user, 'records').split('.');
    const forged = `${header}.${payload}.${createHmac('sha256', usersKey).update(`${header}.${payload}`).digest('base64url')}`;
    const verifier = createContextVerifier({ key: recordsKey, audience: 'records' });
    expect(reasonOf(() => verifier.verify(forged))).toBe('context_signature_invalid');
  });

  it('rejects an altered payload', () => {
    const verifier = createContextVerifier({ key: deriveContextKey(master, 'users'), audience: 'users' });
    const [header, payload, signature] = signer.sign(user, 'users').split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const altered = Buffer.from(JSON.stringify({ ...claims, roles: ['ADMIN'] })).toString('base64url');
    expect(reasonOf(() => verifier.verify(`${header}.${altered}.${signature}`))).toBe('context_signature_invalid');
  });

  it('rejects an expired context and one that lives longer than 60 seconds', () => {
    let now = Date.now();
    const clockSigner = createContextSigner({ masterSecret: master, ttlSeconds: 30, now: () => now });
    const verifier = createContextVerifier({
      key: deriveContextKey(master, 'users'),
      audience: 'users',
      clockToleranceSeconds: 5,
      now: () => now,
    });
    const jws = clockSigner.sign(user, 'users');
    now += 34_000;
    expect(reasonOf(() => verifier.verify(jws))).toBeUndefined();
    now += 2_000;
    expect(reasonOf(() => verifier.verify(jws))).toBe('context_expired');
    expect(() => createContextSigner({ masterSecret: master, ttlSeconds: CONTEXT_MAX_TTL_SECONDS + 1 })).toThrow(TypeError);
  });

  it('rejects missing, malformed and unsigned headers', () => {
    const verifier = createContextVerifier({ key: deriveContextKey(master, 'users'), audience: 'users' });
    const [header, payload] = signer.sign(user, 'users').split('.');
    expect(reasonOf(() => verifier.verify(undefined))).toBe('context_missing');
    expect(reasonOf(() => verifier.verify(['a', 'b']))).toBe('context_malformed');
    expect(reasonOf(() => verifier.verify('nodots'))).toBe('context_malformed');
    expect(reasonOf(() => verifier.verify(`${header}.${payload}.`))).toBe('context_signature_invalid');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'gatehouse-ctx+jwt' })).toString('base64url');
    expect(reasonOf(() => verifier.verify(`${none}.${payload}.`))).toBe('context_signature_invalid');
  });

  it('refuses secrets shorter than 32 bytes at construction', () => {
    expect(() => createContextSigner({ masterSecret: 'short' })).toThrow(TypeError);
    expect(() => createContextVerifier({ key: Buffer.alloc(16), audience: 'users' })).toThrow(TypeError);
  });
});
