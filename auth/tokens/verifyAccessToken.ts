import { UnsecuredJWT, decodeProtectedHeader, errors as joseErrors, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import { gatehouseClaims, isNumericDate, isUuid, type ClaimMapping, type Principal } from './claims';
import { ACCESS_TOKEN_ALGORITHMS, ACCESS_TOKEN_TYP } from './issueAccessToken';
import { JwksUnavailableError, type ResolvedKey } from './createJwksCache';
import { createSignatureCheck, type SignatureCheck } from './signatureCheck';

/** Stable reasons in `extensions.reason` of an UNAUTHENTICATED answer to a refused access token (docs/tokens.md). */
export const TOKEN_REJECTION_REASONS = [
  'token_malformed',
  'token_header_refused',
  'token_algorithm_refused',
  'token_unknown_key',
  'token_signature_invalid',
  'token_expired',
  'token_not_yet_valid',
  'token_too_old',
  'token_lifetime_too_long',
  'token_claims_invalid',
  'token_type_invalid',
  'token_issuer_unknown',
] as const;
export type TokenRejectionReason = (typeof TOKEN_REJECTION_REASONS)[number];

export class AccessTokenError extends Error {
  constructor(readonly reason: TokenRejectionReason) {
    super(`Access token refused: ${reason}`);
    this.name = 'AccessTokenError';
  }
}

/** Where a verifier finds keys: a JWKS cache (createJwksCache) or a fixed set (createStaticKeyResolver). */
export interface KeyResolver {
  /** The key for `kid`, fetching when needed; throws JwksUnavailableError when no current set is held. */
  getKey(kid: string): Promise<ResolvedKey | undefined>;
  /** The key held for `kid` right now, without fetching. */
  heldKey(kid: string): ResolvedKey | undefined;
  /** Changes whenever a held key is added, removed or replaced. */
  readonly generation: number;
  /** Milliseconds since the epoch after which the held set must not be used (JwksUnavailableError). */
  readonly usableUntil: number;
}

/** A key set that never changes (tests, benchmarks, a pinned key). */
export function createStaticKeyResolver(keys: readonly ResolvedKey[]): KeyResolver {
  const byKid = new Map(keys.map((key) => [key.kid, key]));
  return { getKey: async (kid) => byKid.get(kid), heldKey: (kid) => byKid.get(kid), generation: 0, usableUntil: Infinity };
}

export interface AccessTokenVerifierOptions {
  issuer: string;
  audience: string;
  keys: KeyResolver;
  /** Clock skew tolerated on exp / nbf / iat; default 5 seconds. */
  clockToleranceSeconds?: number;
  /** Tokens older than this (by iat) are refused whatever their exp; default 3600 seconds. */
  maxTokenAgeSeconds?: number;
  /** Tokens whose exp − iat exceeds this are refused (`token_lifetime_too_long`); default 1200 seconds. */
  maxTokenLifetimeSeconds?: number;
  /** How many verified tokens to remember; default 10 000. Memory stays bounded by this. */
  cacheSize?: number;
  /** The JOSE typ required; default `at+jwt` (RFC 9068). */
  typ?: string;
  /** Claims that must be present; default Gatehouse's own. exp and iat are always required. */
  requiredClaims?: string[];
  /** Reads the principal from the verified payload; default Gatehouse's own claims. */
  claims?: ClaimMapping;
  /** Marks principals as coming from an external identity provider. */
  external?: boolean;
  /**
   * Which role names Gatehouse knows (the roles file, which may reload: asked at each verification); others are
   * dropped. Default: every name is kept.
   */
  isRole?: (name: string) => boolean;
  /** Told of role names a verified token carries that no Gatehouse role has; they are dropped. */
  onUnknownRoles?: (roles: readonly string[], principal: { issuer: string; userId: string; tenantId: string }) => void;
  now?: () => number;
}

// Header parameters that would make a verifier fetch or trust key material named by the token itself.
const REFUSED_HEADER_PARAMETERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'crit'];
const UUIDISH = /^[A-Za-z0-9_-]{1,128}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const ALGORITHMS: readonly string[] = ACCESS_TOKEN_ALGORITHMS;
const MAX_ID_LENGTH = 255;

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
 * What the cache remembers of a verified token: the principal, the key that verified it, and the instants at which the
 * time-dependent checks change their answer, precomputed so that a hit re-checks each with one comparison.
 */
interface Verdict {
  principal: Principal;
  key: ResolvedKey;
  /** The key set's generation when `key` was last seen in it. */
  generation: number;
  /** Milliseconds since the epoch, clock tolerance included: before this, nbf refuses the token… */
  validFromMs: number;
  /** …from this on, exp does… */
  expiresAtMs: number;
  /** …and from this on, the maximum age does. */
  tooOldAtMs: number;
}

const isIdentifier = (value: unknown) => typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH;

/**
 * Creates the access-token verifier used once per gateway instance per token: header checks before any
 * cryptography, the key (and so the algorithm) looked up by kid, the signature checked with node:crypto, then jose's
 * claim checks (those of jwtVerify) with iss, aud, typ at+jwt, exp, nbf and a maximum age; then exp, iat and nbf must be whole NumericDates, exp − iat at most the maximum
 * lifetime, and the principal a real one (a user id, a tenant UUID, a session). Unknown role names are dropped.
 *
 * A verified token is remembered (bounded LRU) as a memo of its signature check only: every hit re-checks exp, nbf,
 * the maximum age, that its key is still in the key set and that the set is not stale, so a hit accepts exactly
 * what a fresh check would. `verify` throws AccessTokenError with a stable reason, or JwksUnavailableError when no
 * current key set is held (answer 503, not 401).
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions) {
  const { issuer, audience, keys } = options;
  const clockTolerance = options.clockToleranceSeconds ?? 5;
  const maxTokenAge = options.maxTokenAgeSeconds ?? 3600;
  const maxLifetime = options.maxTokenLifetimeSeconds ?? 1200;
  const now = options.now ?? Date.now;
  const typ = options.typ ?? ACCESS_TOKEN_TYP;
  const requiredClaims = [...new Set([...(options.requiredClaims ?? ['sub', 'jti', 'sid', 'tenant_id']), 'exp', 'iat'])];
  const mapClaims = options.claims ?? gatehouseClaims;
  if (!issuer || !audience) throw new TypeError('createAccessTokenVerifier: "issuer" and "audience" are required');
  if (!keys || typeof keys.getKey !== 'function' || typeof keys.heldKey !== 'function') {
    throw new TypeError('createAccessTokenVerifier: "keys" must resolve keys by kid');
  }
  if (!(clockTolerance >= 0 && clockTolerance <= 300))
    throw new TypeError('createAccessTokenVerifier: "clockToleranceSeconds" must be 0..300');
  for (const [name, value] of Object.entries({ maxTokenAgeSeconds: maxTokenAge, maxTokenLifetimeSeconds: maxLifetime })) {
    if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`createAccessTokenVerifier: "${name}" must be a positive integer`);
  }

  const verified = new LRUCache<string, Verdict>({ max: options.cacheSize ?? 10_000 });

  // jose hands the parsed protected header to this resolver before any cryptography (the header is decoded once):
  // refused parameters, typ and kid are checked here, and the key found by kid decides the algorithm.
  async function keyFor(header: JWTHeaderParameters): Promise<ResolvedKey> {
    if (REFUSED_HEADER_PARAMETERS.some((name) => name in header)) throw new AccessTokenError('token_header_refused');
    if (header.typ !== typ) throw new AccessTokenError('token_type_invalid');
    if (typeof header.kid !== 'string' || !UUIDISH.test(header.kid)) throw new AccessTokenError('token_unknown_key');
    const resolved = await keys.getKey(header.kid);
    if (!resolved) throw new AccessTokenError('token_unknown_key');
    if (header.alg !== resolved.alg) throw new AccessTokenError('token_algorithm_refused');
    return resolved;
  }

  /** The checks jose does not make: every date a whole NumericDate, a bounded lifetime, a real principal. */
  function principalOf(payload: JWTPayload): Principal {
    const { exp, iat, nbf } = payload;
    if (!isNumericDate(exp) || !isNumericDate(iat) || (nbf !== undefined && !isNumericDate(nbf)) || exp <= iat) {
      throw new AccessTokenError('token_claims_invalid');
    }
    if (exp - iat > maxLifetime) throw new AccessTokenError('token_lifetime_too_long');
    const mapped = mapClaims(payload as JWTPayload & Record<string, unknown>);
    if (!mapped || !isIdentifier(mapped.userId) || !isUuid(mapped.tenantId) || !isIdentifier(mapped.sessionId)) {
      throw new AccessTokenError('token_claims_invalid');
    }
    const isRole = options.isRole ?? (() => true);
    const roles = mapped.roles.filter(isRole);
    if (roles.length !== mapped.roles.length) {
      options.onUnknownRoles?.(
        mapped.roles.filter((role) => !isRole(role)),
        { issuer, userId: mapped.userId, tenantId: mapped.tenantId },
      );
    }
    return {
      ...mapped,
      roles: roles.length === mapped.roles.length ? mapped.roles : Object.freeze(roles),
      issuer,
      issuedAt: iat,
      expiresAt: exp,
      ...(options.external ? { external: true } : {}),
    };
  }

  // Each key's signature check, made once per key object (a key replaced in the set is a new object).
  const signatureChecks = new WeakMap<ResolvedKey, SignatureCheck>();
  function signatureCheckOf(key: ResolvedKey): SignatureCheck {
    let check = signatureChecks.get(key);
    if (!check) {
      try {
        check = createSignatureCheck(key.alg, key.key);
      } catch {
        throw new AccessTokenError('token_algorithm_refused');
      }
      signatureChecks.set(key, check);
    }
    return check;
  }
  // The claims are validated by jose's own claim checks (UnsecuredJWT.decode, the ones jwtVerify makes) on the
  // verified payload under a header that carries the token's typ; keyFor has already required typ to be this one.
  const unsecuredHeader = Buffer.from(JSON.stringify({ alg: 'none', typ })).toString('base64url');

  /**
   * The order of jose's jwtVerify: the JWS parsed, crit and alg checked, the key found by kid (keyFor), the signature
   * (node:crypto, synchronous, on a key prepared once), then the claims (jose).
   */
  async function verifyUncached(token: string): Promise<Verdict> {
    let payload: JWTPayload;
    let key: ResolvedKey | undefined;
    const generation = keys.generation;
    try {
      const segments = token.split('.');
      if (segments.length !== 3 || !segments.every((segment) => BASE64URL.test(segment))) throw new AccessTokenError('token_malformed');
      const header = decodeProtectedHeader(token) as JWTHeaderParameters;
      if (header.crit !== undefined) throw new AccessTokenError(Array.isArray(header.crit) ? 'token_header_refused' : 'token_malformed');
      if (typeof header.alg !== 'string' || !header.alg) throw new AccessTokenError('token_malformed');
      // Asymmetric algorithms only (never HS* or none); the key's own algorithm is enforced in keyFor.
      if (!ALGORITHMS.includes(header.alg)) throw new AccessTokenError('token_algorithm_refused');
      key = await keyFor(header);
      const signingInput = Buffer.from(token.slice(0, segments[0].length + 1 + segments[1].length), 'ascii');
      if (!signatureCheckOf(key)(signingInput, Buffer.from(segments[2], 'base64url')))
        throw new AccessTokenError('token_signature_invalid');
      ({ payload } = UnsecuredJWT.decode(`${unsecuredHeader}.${segments[1]}.`, {
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
    const principal = principalOf(payload);
    // jose compares whole seconds, t = floor(now / 1000): refused when exp <= t − tolerance, when
    // t − iat − tolerance > maxTokenAge, or when nbf > t + tolerance. The same boundaries in milliseconds:
    return {
      principal,
      key: key!,
      // A fetch during getKey may have changed the set: the verdict holds the generation read before it, so the
      // first hit looks the key up again.
      generation,
      validFromMs: payload.nbf === undefined ? -Infinity : (payload.nbf - clockTolerance) * 1000,
      expiresAtMs: (principal.expiresAt + clockTolerance) * 1000,
      tooOldAtMs: (principal.issuedAt + clockTolerance + maxTokenAge + 1) * 1000,
    };
  }

  /** The verdict's principal if a fresh check would still accept the token now; else throws as that check would. */
  function recheck(verdict: Verdict): Principal {
    const nowMs = now();
    if (nowMs >= verdict.expiresAtMs) throw new AccessTokenError('token_expired');
    if (nowMs >= verdict.tooOldAtMs) throw new AccessTokenError('token_too_old');
    if (nowMs < verdict.validFromMs) throw new AccessTokenError('token_not_yet_valid');
    if (nowMs > keys.usableUntil) throw new JwksUnavailableError('No current signing keys: the key publisher is unreachable');
    if (verdict.generation !== keys.generation) {
      // The set changed since this key was last seen in it: the same key object must still be held under its kid.
      if (keys.heldKey(verdict.key.kid) !== verdict.key) throw new AccessTokenError('token_unknown_key');
      verdict.generation = keys.generation;
    }
    return verdict.principal;
  }

  /** A remembered verdict re-checked now; a refused one is forgotten (a fresh check would refuse it too). */
  function fromCache(token: string): Principal | undefined {
    const verdict = verified.get(token);
    if (!verdict) return undefined;
    try {
      return recheck(verdict);
    } catch (error) {
      if (error instanceof AccessTokenError) verified.delete(token);
      throw error;
    }
  }

  return {
    /**
     * The principal of a remembered token that a fresh check would still accept (no cryptography), undefined for a
     * token not remembered; throws AccessTokenError / JwksUnavailableError for a remembered one it would refuse.
     */
    cached: fromCache,
    /** Verifies `token` (the bare JWT, without "Bearer "). */
    async verify(token: string): Promise<Principal> {
      const cached = fromCache(token);
      if (cached) return cached;
      // jose has just checked the times; a key replaced during the check is caught by the next hit (generation).
      const verdict = await verifyUncached(token);
      verified.set(token, verdict);
      return verdict.principal;
    },
    /** Forgets every cached token of a session (on revocation). */
    forgetSession(sessionId: string) {
      for (const [token, verdict] of verified.entries()) if (verdict.principal.sessionId === sessionId) verified.delete(token);
    },
    get cacheSize() {
      return verified.size;
    },
  };
}
export type AccessTokenVerifier = ReturnType<typeof createAccessTokenVerifier>;
export { JwksUnavailableError };
