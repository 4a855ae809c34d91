import { decodeJwt } from 'jose';
import {
  AccessTokenError,
  createAccessTokenVerifier,
  createExternalClaimMapping,
  createJwksCache,
  type AccessTokenVerifier,
  type JwksCache,
  type JwksFetchReason,
  type KeyResolver,
  type Principal,
  type SkippedKey,
  SKIPPED_KEY_REASONS,
} from '../auth';
import type { ExternalIssuer, GatewayConfig } from './config';
import type { GatewayMetrics } from './metrics';

interface IssuerEntry {
  issuer: string;
  verifier: AccessTokenVerifier;
  /** Resolves the issuer's key set (discovery first, when configured) and loads it. */
  load(): Promise<void>;
  jwks(): JwksCache | undefined;
}

export interface TokenVerifierOptions {
  metrics: Pick<GatewayMetrics, 'jwksFetches' | 'jwksKeysSkipped' | 'tokenCache' | 'unknownRoles'>;
  log: { warn(details: object, message: string): void };
  /** The clock of token and key-set checks, ms since the epoch; default Date.now. */
  now?: () => number;
  /** Which role names are Gatehouse's (the current roles file); a token's other roles are dropped and logged. */
  isRole?: (name: string) => boolean;
}

/** Reads an OpenID Connect discovery document and returns its jwks_uri; its `issuer` must be exactly ours. */
async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(url, { signal: AbortSignal.timeout(5000), headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`discovery for ${issuer} answered HTTP ${response.status}`);
  const document = (await response.json()) as { issuer?: string; jwks_uri?: string };
  if (document.issuer !== issuer) throw new Error(`discovery for ${issuer} names another issuer`);
  if (!document.jwks_uri) throw new Error(`discovery for ${issuer} has no jwks_uri`);
  return document.jwks_uri;
}

/**
 * Verifies access tokens from the local auth service and from configured external OpenID Connect providers. A token
 * is checked only against the keys of the issuer it names: a token naming issuer A and signed with issuer B's key
 * finds no such key and is refused. Unknown issuers are refused before any cryptography.
 */
export function createTokenVerifier(config: GatewayConfig, options: TokenVerifierOptions) {
  const { metrics, log } = options;
  const now = options.now ?? Date.now;
  const onCache = (result: 'hit' | 'miss') => metrics.tokenCache.inc({ result });
  const common = {
    now,
    clockToleranceSeconds: config.CLOCK_TOLERANCE_SECONDS,
    maxTokenAgeSeconds: config.MAX_TOKEN_AGE_SECONDS,
    cacheSize: config.TOKEN_CACHE_SIZE,
    isRole: options.isRole,
    onUnknownRoles(roles: readonly string[], principal: { issuer: string; userId: string; tenantId: string }) {
      metrics.unknownRoles.inc();
      const named = roles.slice(0, 10).map((role) => role.slice(0, 64));
      log.warn({ ...principal, roles: named }, 'access token names unknown roles; they are dropped');
    },
  };
  const jwksOptions = (issuer: string) => ({
    cooldownMs: config.JWKS_COOLDOWN_MS,
    refreshIntervalMs: config.JWKS_REFRESH_MS,
    maxStaleMs: config.JWKS_MAX_STALE_MS,
    now,
    onFetch(result: 'ok' | 'error', reason: JwksFetchReason, error?: Error) {
      metrics.jwksFetches.inc({ result, reason });
      // A failed first load is logged by whoever awaits load(); a failed refresh or unknown-kid fetch only here.
      if (error && reason !== 'load') log.warn({ issuer, reason, error: error.message }, 'key set fetch failed; the held set stays in use');
    },
    onKeySet({ skipped }: { skipped: readonly SkippedKey[] }) {
      for (const reason of SKIPPED_KEY_REASONS) {
        metrics.jwksKeysSkipped.set({ issuer, reason }, skipped.filter((key) => key.reason === reason).length);
      }
      // Logged when what is left out changes, not at every refresh (some providers publish encryption keys for good).
      const described = JSON.stringify(skipped);
      if (described === lastSkipped.get(issuer)) return;
      lastSkipped.set(issuer, described);
      if (skipped.length)
        log.warn({ issuer, skipped }, 'key set holds keys that cannot verify tokens; they are left out, the rest is used');
    },
  });
  const lastSkipped = new Map<string, string>();

  const localJwks = createJwksCache({ url: config.AUTH_JWKS_URL, ...jwksOptions(config.TOKEN_ISSUER) });
  const local: IssuerEntry = {
    issuer: config.TOKEN_ISSUER,
    verifier: createAccessTokenVerifier({
      issuer: config.TOKEN_ISSUER,
      audience: config.TOKEN_AUDIENCE,
      keys: localJwks,
      maxTokenLifetimeSeconds: config.MAX_TOKEN_LIFETIME_SECONDS,
      ...common,
    }),
    load: () => localJwks.load(),
    jwks: () => localJwks,
  };

  const externalEntry = (external: ExternalIssuer): IssuerEntry => {
    let jwks: JwksCache | undefined;
    // Until the key set is known every lookup fails: such tokens are refused, never trusted.
    const keys: KeyResolver = {
      getKey: async (kid) => (jwks ? jwks.getKey(kid) : undefined),
      heldKey: (kid) => jwks?.heldKey(kid),
      get generation() {
        return jwks?.generation ?? 0;
      },
      get usableUntil() {
        return jwks?.usableUntil ?? -Infinity;
      },
    };
    return {
      issuer: external.issuer,
      verifier: createAccessTokenVerifier({
        issuer: external.issuer,
        audience: external.audience,
        keys,
        typ: external.typ,
        requiredClaims: ['exp', 'iat'],
        maxTokenLifetimeSeconds: external.maxTokenLifetimeSeconds,
        claims: createExternalClaimMapping(external),
        external: true,
        ...common,
      }),
      async load() {
        jwks ??= createJwksCache({ url: external.jwksUri ?? (await discoverJwksUri(external.issuer)), ...jwksOptions(external.issuer) });
        await jwks.load();
      },
      jwks: () => jwks,
    };
  };

  const entries = new Map<string, IssuerEntry>([
    [local.issuer, local],
    ...config.trustedIssuers.map((external) => [external.issuer, externalEntry(external)] as const),
  ]);
  const all = [...entries.values()];

  return {
    localJwks,
    externalIssuers: all.filter((entry) => entry !== local),
    async verify(token: string): Promise<Principal> {
      // A token seen before is answered from its issuer's cache without decoding anything, after the checks that
      // depend on the time and the key set (a remembered token that would now be refused throws here).
      for (const entry of all) {
        let cached: Principal | undefined;
        try {
          cached = entry.verifier.cached(token);
        } catch (error) {
          onCache('hit');
          throw error;
        }
        if (cached) {
          onCache('hit');
          return cached;
        }
      }
      onCache('miss');
      if (all.length === 1) return local.verifier.verify(token);
      let issuer: unknown;
      try {
        issuer = decodeJwt(token).iss;
      } catch {
        throw new AccessTokenError('token_malformed');
      }
      const entry = typeof issuer === 'string' ? entries.get(issuer) : undefined;
      if (!entry) throw new AccessTokenError('token_issuer_unknown');
      return entry.verifier.verify(token);
    },
    /** Forgets a revoked session's cached tokens in every issuer's cache. */
    forgetSession(sessionId: string) {
      for (const entry of all) entry.verifier.forgetSession(sessionId);
    },
    stop() {
      for (const entry of all) entry.jwks()?.stop();
    },
  };
}
export type TokenVerifier = ReturnType<typeof createTokenVerifier>;
