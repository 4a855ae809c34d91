import { AccessTokenError, JwksUnavailableError, type ContextUser, type Principal } from '../auth';
import type { RoleSource } from './roleSource';

/** At most this many bytes of Authorization header are read; more is refused before any cryptography. */
export const MAX_AUTHORIZATION_BYTES = 8192;
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

export type AuthenticationResult =
  | { ok: true; user: ContextUser | null; principal: Principal | null }
  | { ok: false; status: 400 | 401 | 503; reason: string; wwwAuthenticate?: string };

// A verified token's principal is the same object on every cache hit: its caller, scopes included, is built once per
// version of the roles file.
const contextUsers = new WeakMap<Principal, { generation: number; user: ContextUser }>();
function contextUserOf(principal: Principal, roles: Pick<RoleSource, 'table' | 'generation'>): ContextUser {
  const known = contextUsers.get(principal);
  if (known?.generation === roles.generation) return known.user;
  const user: ContextUser = {
    id: principal.userId,
    tenantId: principal.tenantId,
    roles: principal.roles,
    scopes: roles.table.scopesOf(principal.roles, principal.grantedScopes),
    sessionId: principal.sessionId,
    ...(principal.authTime !== undefined ? { authTime: principal.authTime } : {}),
    ...(principal.amr ? { amr: principal.amr } : {}),
    ...(principal.external ? { issuer: principal.issuer } : {}),
  };
  contextUsers.set(principal, { generation: roles.generation, user });
  return user;
}

function refuse(status: 400 | 401, reason: string, error: 'invalid_request' | 'invalid_token'): AuthenticationResult {
  return { ok: false, status, reason, wwwAuthenticate: `Bearer error="${error}"` };
}

/**
 * Decides who a request speaks for from its raw headers (RFC 6750): no Authorization header is an anonymous
 * caller; a malformed or repeated header is refused before any cryptography; a bearer token is verified once per
 * gateway instance (cached), then checked against the local revocation set. Never throws for a client mistake.
 */
export async function authenticateRequest(
  rawHeaders: readonly string[],
  verifier: { verify(token: string): Promise<Principal> },
  revocations: { check(token: { sessionId: string; tenantId: string; issuedAt: number }): 'ok' | 'revoked' | 'unavailable' },
  roles: Pick<RoleSource, 'table' | 'generation'>,
): Promise<AuthenticationResult> {
  let authorization: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].length === 13 && rawHeaders[i].toLowerCase() === 'authorization') {
      if (authorization !== undefined) return refuse(400, 'authorization_repeated', 'invalid_request');
      authorization = rawHeaders[i + 1];
    }
  }
  if (authorization === undefined) return { ok: true, user: null, principal: null };
  if (authorization.length > MAX_AUTHORIZATION_BYTES) return refuse(400, 'authorization_too_large', 'invalid_request');
  const match = BEARER.exec(authorization);
  if (!match)
    return refuse(
      401,
      /^bearer\s/i.test(authorization) ? 'token_malformed' : 'authorization_not_bearer',
      /^bearer\s/i.test(authorization) ? 'invalid_token' : 'invalid_request',
    );

  try {
    const principal = await verifier.verify(match[1]);
    const state = revocations.check(principal);
    if (state === 'revoked') return refuse(401, 'token_revoked', 'invalid_token');
    if (state === 'unavailable') return { ok: false, status: 503, reason: 'revocations_unavailable' };
    const user = contextUserOf(principal, roles);
    return { ok: true, user, principal };
  } catch (error) {
    if (error instanceof AccessTokenError) return refuse(401, error.reason, 'invalid_token');
    if (error instanceof JwksUnavailableError) return { ok: false, status: 503, reason: 'keys_unavailable' };
    throw error;
  }
}
