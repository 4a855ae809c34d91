import { randomUUID } from 'node:crypto';
import { SignJWT, type CryptoKey, type KeyObject } from 'jose';

/** The JOSE `typ` of Gatehouse access tokens (RFC 9068). Nothing else may carry it. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
/** Asymmetric algorithms an access token may be signed with. HMAC and `none` are never among them. */
export const ACCESS_TOKEN_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'] as const;
export type AccessTokenAlgorithm = (typeof ACCESS_TOKEN_ALGORITHMS)[number];
/**
 * What new signing keys use unless configured (ACCESS_TOKEN_ALG). RSASSA-PSS: every gateway verifies each token once,
 * and checking an RSA signature takes about half the CPU of ES256 or EdDSA (`npm run bench`, README); signing, once
 * per login or refresh, costs about a third of a millisecond.
 */
export const DEFAULT_ACCESS_TOKEN_ALGORITHM: AccessTokenAlgorithm = 'PS256';

export interface SigningKey {
  kid: string;
  alg: AccessTokenAlgorithm;
  privateKey: CryptoKey | KeyObject;
}

export interface AccessTokenIssuerOptions {
  issuer: string;
  audience: string;
  /** Lifetime of each token; default 900 (15 minutes). */
  ttlSeconds?: number;
  /** The key that signs new tokens, or a function answering the current one (keys rotate). */
  signingKey: SigningKey | (() => SigningKey);
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

export interface AccessTokenSubject {
  userId: string;
  tenantId: string;
  roles: readonly string[];
  sessionId: string;
  /** How the user authenticated (RFC 8176), e.g. ['pwd'] or ['pwd', 'otp']. */
  amr?: readonly string[];
  /** When the user last authenticated, in seconds since the epoch. */
  authTime?: number;
}

export interface IssuedAccessToken {
  token: string;
  tokenId: string;
  expiresIn: number;
  expiresAt: number;
}

/**
 * Creates the issuer of 15-minute access tokens: signed with the key's algorithm under the key's `kid`, typ `at+jwt`,
 * carrying iss, aud, sub, tenant_id, roles, sid, jti, iat, exp (and amr / auth_time when known).
 * Throws TypeError on bad options, before any signing.
 */
export function createAccessTokenIssuer(options: AccessTokenIssuerOptions) {
  const { issuer, audience, signingKey } = options;
  const ttlSeconds = options.ttlSeconds ?? 900;
  const now = options.now ?? Date.now;
  if (!issuer) throw new TypeError('createAccessTokenIssuer: "issuer" is required');
  if (!audience) throw new TypeError('createAccessTokenIssuer: "audience" is required');
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > 3600) {
    throw new TypeError('createAccessTokenIssuer: "ttlSeconds" must be an integer from 1 to 3600');
  }
  const isUsable = (key: SigningKey | undefined) => !!key?.kid && (ACCESS_TOKEN_ALGORITHMS as readonly string[]).includes(key.alg);
  if (typeof signingKey !== 'function' && !isUsable(signingKey)) {
    throw new TypeError('createAccessTokenIssuer: "signingKey" needs a kid and an asymmetric alg');
  }
  const currentKey = typeof signingKey === 'function' ? signingKey : () => signingKey;

  return {
    async issue(subject: AccessTokenSubject): Promise<IssuedAccessToken> {
      const key = currentKey();
      if (!isUsable(key)) throw new TypeError('createAccessTokenIssuer: the current signing key is not usable');
      const iat = Math.floor(now() / 1000);
      const exp = iat + ttlSeconds;
      const tokenId = randomUUID();
      const claims: Record<string, unknown> = {
        tenant_id: subject.tenantId,
        roles: [...subject.roles],
        sid: subject.sessionId,
      };
      if (subject.amr) claims.amr = [...subject.amr];
      if (subject.authTime !== undefined) claims.auth_time = subject.authTime;
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYP })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(subject.userId)
        .setJti(tokenId)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(key.privateKey);
      return { token, tokenId, expiresIn: ttlSeconds, expiresAt: exp };
    },
  };
}
export type AccessTokenIssuer = ReturnType<typeof createAccessTokenIssuer>;
