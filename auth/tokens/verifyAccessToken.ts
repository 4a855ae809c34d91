import { errors as joseErrors, jwtVerify, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import { ACCESS_TOKEN_ALGORITHMS, ACCESS_TOKEN_TYP } from './issueAccessToken';
import { JwksUnavailableError, type ResolvedKey } from './createJwksCache';

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
  /** True when an external identity provider issued the token (claims mapped by its configuration). */
  external?: boolean;
}

/** The fields of a Principal that come from a verified payload; undefined when the payload lacks them. */
export type ClaimMapping = (
  payload: JWTPayload & Record<string, unknown>,
) => Omit<Principal, 'issuer' | 'issuedAt' | 'expiresAt'> | undefined;

const strings = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;

/** Gatehouse's own access-token claims: sub, tenant_id, roles, sid, jti (and amr / auth_time). */
export const gatehouseClaims: ClaimMapping = (payload) => {
  const { sub, jti, sid, tenant_id: tenantId, auth_time: authTime } = payload;
  const roles = strings(payload.roles);
  if (typeof sub !== 'string' || typeof jti !== 'string' || typeof sid !== 'string' || typeof tenantId !== 'string' || !roles)
    return undefined;
  const amr = strings(payload.amr);
  return {
    userId: sub,
    tenantId,
    roles: Object.freeze([...roles]),
    sessionId: sid,
    tokenId: jti,
    ...(typeof authTime === 'number' ? { authTime } : {}),
    ...(amr ? { amr: Object.freeze([...amr]) } : {}),
  };
};

/** Stable reasons in `extensions.reason` of an UNAUTHENTICATED answer. */
export type TokenRejectionReason =
  | 'token_malformed'
  | 'token_header_refused'
  | 'token_algorithm_refused'
  | 'token_unknown_key'
  | 'token_signature_invalid'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_too_old'
  | 'token_claims_invalid'
  | 'token_type_invalid'
  | 'token_issuer_unknown';

export class AccessTokenError extends Error {
  constructor(readonly reason: TokenRejectionReason) {
    super(`Access token refused: ${reason}`);
    this.name = 'AccessTokenError';
  }
}

export interface KeyResolver {
  getKey(kid: string): Promise<ResolvedKey | undefined>;
}

export interface AccessTokenVerifierOptions {
  issuer: string;
  audience: string;
  keys: KeyResolver;
  /** Clock skew tolerated on exp / nbf / iat; default 5 seconds. */
  clockToleranceSeconds?: number;
  /** Tokens older than this (by iat) are refused whatever their exp; default 3600 seconds. */
  maxTokenAgeSeconds?: number;
  /** How many verified tokens to remember; default 10 000. Memory stays bounded by this. */
  cacheSize?: number;
  /** The JOSE typ required; default `at+jwt` (RFC 9068). */
  typ?: string;
  /** Claims that must be present; default Gatehouse's own. */
  requiredClaims?: string[];
  /** Reads the principal from the verified payload; default Gatehouse's own claims. */
  claims?: ClaimMapping;
  /** Marks principals as coming from an external identity provider. */
  external?: boolean;
  now?: () => number;
}

// Header parameters that would make a verifier fetch or trust key material named by the token itself.
const REFUSED_HEADER_PARAMETERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'crit'];
const UUIDISH = /^[A-Za-z0-9_-]{1,128}$/;

function reasonOf(error: unknown): TokenRejectionReason {
  if (error instanceof AccessTokenError) return error.reason;
  if (error instanceof joseErrors.JWTExpired) return error.claim === 'iat' ? 'token_too_old' : 'token_expired';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'token_signature_invalid';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'token_algorithm_refused';
  // An extension the token marks critical that jose does not recognise (checked before the key is looked up).
  if (error instanceof joseErrors.JOSENotSupported) return 'token_header_refused';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'token_not_yet_valid';
    if (error.claim === 'typ') return 'token_type_invalid';
    return 'token_claims_invalid';
  }
  return 'token_malformed';
}

/**
 * Creates the access-token verifier used once per gateway instance per token: header checks before any
 * cryptography, the key (and so the algorithm) looked up by kid, then jose's jwtVerify with iss, aud, typ at+jwt,
 * exp, nbf and a maximum age. A verified token is remembered until it expires (bounded LRU), so a repeat costs a
 * map lookup. `verify` throws AccessTokenError with a stable reason, or JwksUnavailableError when no current key
 * set is held (answer 503, not 401).
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions) {
  const { issuer, audience, keys } = options;
  const clockTolerance = options.clockToleranceSeconds ?? 5;
  const maxTokenAge = options.maxTokenAgeSeconds ?? 3600;
  const now = options.now ?? Date.now;
  const typ = options.typ ?? ACCESS_TOKEN_TYP;
  const requiredClaims = options.requiredClaims ?? ['exp', 'iat', 'sub', 'jti', 'sid', 'tenant_id'];
  const mapClaims = options.claims ?? gatehouseClaims;
  if (!issuer || !audience) throw new TypeError('createAccessTokenVerifier: "issuer" and "audience" are required');
  if (!keys || typeof keys.getKey !== 'function') throw new TypeError('createAccessTokenVerifier: "keys" must resolve keys by kid');
  if (clockTolerance < 0 || clockTolerance > 300) throw new TypeError('createAccessTokenVerifier: "clockToleranceSeconds" must be 0..300');

  const verified = new LRUCache<string, Principal>({ max: options.cacheSize ?? 10_000 });

  // jose hands the parsed protected header to this resolver before any cryptography (the header is decoded once):
  // refused parameters, typ and kid are checked here, and the key found by kid decides the algorithm.
  async function keyFor(header: JWTHeaderParameters) {
    if (REFUSED_HEADER_PARAMETERS.some((name) => name in header)) throw new AccessTokenError('token_header_refused');
    if (header.typ !== typ) throw new AccessTokenError('token_type_invalid');
    if (typeof header.kid !== 'string' || !UUIDISH.test(header.kid)) throw new AccessTokenError('token_unknown_key');
    const resolved = await keys.getKey(header.kid);
    if (!resolved) throw new AccessTokenError('token_unknown_key');
    if (header.alg !== resolved.alg) throw new AccessTokenError('token_algorithm_refused');
    return resolved.key;
  }

  async function verifyUncached(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keyFor, {
        // Asymmetric algorithms only (never HS* or none); the key's own algorithm is enforced in keyFor.
        algorithms: [...ACCESS_TOKEN_ALGORITHMS],
        issuer,
        audience,
        typ,
        clockTolerance,
        maxTokenAge,
        requiredClaims,
        currentDate: new Date(now()),
      }));
    } catch (error) {
      if (error instanceof JwksUnavailableError) throw error;
      throw new AccessTokenError(reasonOf(error));
    }
    const mapped = mapClaims(payload as JWTPayload & Record<string, unknown>);
    if (!mapped) throw new AccessTokenError('token_claims_invalid');
    return {
      ...mapped,
      issuer,
      issuedAt: payload.iat as number,
      expiresAt: payload.exp as number,
      ...(options.external ? { external: true } : {}),
    };
  }

  return {
    /** A remembered, unexpired principal for `token`, or undefined (a map lookup, no cryptography). */
    cached(token: string): Principal | undefined {
      const cached = verified.get(token);
      return cached && cached.expiresAt + clockTolerance > now() / 1000 ? cached : undefined;
    },
    /** Verifies `token` (the bare JWT, without "Bearer "). */
    async verify(token: string): Promise<Principal> {
      const cached = verified.get(token);
      if (cached) {
        if (cached.expiresAt + clockTolerance > now() / 1000) return cached;
        verified.delete(token);
        throw new AccessTokenError('token_expired');
      }
      const principal = await verifyUncached(token);
      verified.set(token, principal);
      return principal;
    },
    /** Forgets every cached token of a session (on revocation). */
    forgetSession(sessionId: string) {
      for (const [token, principal] of verified.entries()) if (principal.sessionId === sessionId) verified.delete(token);
    },
    get cacheSize() {
      return verified.size;
    },
  };
}
export type AccessTokenVerifier = ReturnType<typeof createAccessTokenVerifier>;
export { JwksUnavailableError };
