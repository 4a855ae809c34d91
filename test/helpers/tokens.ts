import { SignJWT, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import { createAccessTokenIssuer, type PublishedSigningKey } from '../../auth';
import { DEMO_TENANTS } from '../../subgraphs/kit';

export const acme = DEMO_TENANTS[0];
export const globex = DEMO_TENANTS[1];

/** Mints an access token with the stack's real signing key, at a chosen time (tests only). */
export async function mintAccessToken(
  key: PublishedSigningKey,
  options: {
    issuer: string;
    audience: string;
    userId: string;
    tenantId: string;
    roles: string[];
    now?: number;
    sessionId?: string;
    /** amr and auth_time, e.g. ['pwd', 'otp'] for a token that passed a second factor. */
    amr?: string[];
    authTime?: number;
  },
) {
  const issuer = createAccessTokenIssuer({
    issuer: options.issuer,
    audience: options.audience,
    signingKey: key,
    now: options.now === undefined ? undefined : () => options.now!,
  });
  const issued = await issuer.issue({
    userId: options.userId,
    tenantId: options.tenantId,
    roles: options.roles,
    sessionId: options.sessionId ?? crypto.randomUUID(),
    ...(options.amr ? { amr: options.amr, authTime: options.authTime ?? Math.floor((options.now ?? Date.now()) / 1000) } : {}),
  });
  return issued.token;
}

/** Mints a token for a demo user of `tenantId` with a stack's key, issuer and audience (`extra`: the clock, session, amr). */
export function mintFor(
  stack: { signingKey: PublishedSigningKey; issuer: string; audience: string },
  user: { id: string; role: string },
  tenantId: string,
  extra: { now?: number; sessionId?: string; amr?: string[]; authTime?: number } = {},
) {
  return mintAccessToken(stack.signingKey, {
    issuer: stack.issuer,
    audience: stack.audience,
    userId: user.id,
    tenantId,
    roles: [user.role],
    ...extra,
  });
}

/** Signs arbitrary claims and header with a key of our own choosing (for forged tokens). */
export async function signRaw(header: Record<string, unknown>, claims: JWTPayload, key?: CryptoKey) {
  const signingKey = key ?? (await generateKeyPair('ES256')).privateKey;
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', ...header } as any).sign(signingKey);
}

/** An unsigned JWT (alg none). */
export function unsignedToken(header: Record<string, unknown>, claims: JWTPayload): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ ...header, alg: 'none' })}.${encode(claims)}.`;
}

/** Decodes a compact JWS payload without verifying it (for inspecting what a subgraph received). */
export function decodePayload(jws: string): Record<string, any> {
  return JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8'));
}

/**
 * The claims of a valid ADMIN access token of acme for `target`'s issuer and audience; `overrides` change or, with
 * undefined, remove claims (to build one flawed token at a time).
 */
export function adminClaims(target: { issuer: string; audience: string }, overrides: Record<string, unknown> = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: target.issuer,
    aud: target.audience,
    sub: acme.users.admin.id,
    tenant_id: acme.id,
    roles: ['ADMIN'],
    sid: crypto.randomUUID(),
    jti: crypto.randomUUID(),
    iat: now,
    exp: now + 600,
    ...overrides,
  };
  for (const key of Object.keys(claims)) if (claims[key] === undefined) delete claims[key];
  return claims;
}
