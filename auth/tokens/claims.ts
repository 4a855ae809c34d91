import type { JWTPayload } from 'jose';

/** Who a verified access token speaks for. */
export interface Principal {
  userId: string;
  tenantId: string;
  roles: readonly string[];
  sessionId: string;
  tokenId: string;
  issuer: string;
  /** Seconds since the epoch. */
  issuedAt: number;
  expiresAt: number;
  authTime?: number;
  amr?: readonly string[];
  /** Scopes an external provider granted directly (its scope claim, where configured); only those of the roles file count. */
  grantedScopes?: readonly string[];
  /** True when an external identity provider issued the token (claims mapped by its configuration). */
  external?: boolean;
}

/** The fields of a Principal that come from a verified payload; undefined when the payload lacks them. */
export type ClaimMapping = (
  payload: JWTPayload & Record<string, unknown>,
) => Omit<Principal, 'issuer' | 'issuedAt' | 'expiresAt'> | undefined;

/** 9999-12-31T23:59:59Z: no real token names a later time, and every integer up to it is exact in a double. */
export const MAX_NUMERIC_DATE = 253_402_300_799;

/** True for a NumericDate Gatehouse accepts: a whole number of seconds from 0 to MAX_NUMERIC_DATE (no 1e308, no Infinity). */
export function isNumericDate(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_NUMERIC_DATE;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** True for a UUID in its canonical text form (any version). */
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

const strings = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;

/**
 * Gatehouse's own access-token claims: sub, tenant_id and sid (UUIDs, as the auth service issues them), jti, roles
 * (and amr / auth_time). Anything else is not a token of ours, however well signed.
 */
export const gatehouseClaims: ClaimMapping = (payload) => {
  const { sub, jti, sid, tenant_id: tenantId, auth_time: authTime } = payload;
  const roles = strings(payload.roles);
  if (!isUuid(sub) || !isUuid(tenantId) || !isUuid(sid) || typeof jti !== 'string' || !jti || !roles) return undefined;
  const amr = strings(payload.amr);
  return {
    userId: sub,
    tenantId,
    roles: Object.freeze([...roles]),
    sessionId: sid,
    tokenId: jti,
    ...(isNumericDate(authTime) ? { authTime } : {}),
    ...(amr ? { amr: Object.freeze([...amr]) } : {}),
  };
};
