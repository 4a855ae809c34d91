import { decodeJwt } from 'jose';
import {
  AccessTokenError,
  createAccessTokenVerifier,
  createExternalClaimMapping,
  createJwksCache,
  type AccessTokenVerifier,
  type JwksCache,
  type JwksFetchReason,
  type Principal,
} from '../auth';
import type { ExternalIssuer, GatewayConfig } from './config';

interface IssuerEntry {
  issuer: string;
  verifier: AccessTokenVerifier;
  /** Resolves the issuer's key set (discovery first, when configured) and loads it. */
  load(): Promise<void>;
  jwks(): JwksCache | undefined;
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
export function createTokenVerifier(
  config: GatewayConfig,
  events: { onFetch(result: 'ok' | 'error', reason: JwksFetchReason): void; onCache(result: 'hit' | 'miss'): void },
) {
  const { onFetch } = events;
  const common = {
    clockToleranceSeconds: config.CLOCK_TOLERANCE_SECONDS,
    maxTokenAgeSeconds: config.MAX_TOKEN_AGE_SECONDS,
    cacheSize: config.TOKEN_CACHE_SIZE,
  };
  const jwksOptions = {
    cooldownMs: config.JWKS_COOLDOWN_MS,
    refreshIntervalMs: config.JWKS_REFRESH_MS,
    maxStaleMs: config.JWKS_MAX_STALE_MS,
    onFetch,
  };

  const localJwks = createJwksCache({ url: config.AUTH_JWKS_URL, ...jwksOptions });
  const local: IssuerEntry = {
    issuer: config.TOKEN_ISSUER,
    verifier: createAccessTokenVerifier({ issuer: config.TOKEN_ISSUER, audience: config.TOKEN_AUDIENCE, keys: localJwks, ...common }),
    load: () => localJwks.load(),
    jwks: () => localJwks,
  };

  const externalEntry = (external: ExternalIssuer): IssuerEntry => {
    let jwks: JwksCache | undefined;
    // Until the key set is known every lookup fails: such tokens are refused, never trusted.
    const keys = { getKey: async (kid: string) => (jwks ? jwks.getKey(kid) : undefined) };
    return {
      issuer: external.issuer,
      verifier: createAccessTokenVerifier({
        issuer: external.issuer,
        audience: external.audience,
        keys,
        typ: external.typ,
        requiredClaims: ['exp', 'iat'],
        claims: createExternalClaimMapping(external),
        external: true,
        ...common,
      }),
      async load() {
        jwks ??= createJwksCache({ url: external.jwksUri ?? (await discoverJwksUri(external.issuer)), ...jwksOptions });
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
      // A token seen before is answered from its issuer's cache without decoding anything.
      for (const entry of all) {
        const cached = entry.verifier.cached(token);
        if (cached) {
          events.onCache('hit');
          return cached;
        }
      }
      events.onCache('miss');
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
