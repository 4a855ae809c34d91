import { importJWK, type CryptoKey, type JWK, type KeyObject } from 'jose';
import { ACCESS_TOKEN_ALGORITHMS, type AccessTokenAlgorithm } from './issueAccessToken';

export interface ResolvedKey {
  kid: string;
  /** The algorithm this key verifies. Chosen by the key, never by a token's header. */
  alg: AccessTokenAlgorithm;
  key: CryptoKey | KeyObject;
}

export interface JwksCacheOptions {
  /** Where the key set is published, e.g. http://auth:4001/.well-known/jwks.json. */
  url: string;
  /** Per-fetch timeout; default 3000 ms. */
  timeoutMs?: number;
  /** An unknown kid triggers at most one refetch per cooldown; default 30 000 ms. */
  cooldownMs?: number;
  /** Background refresh period; default 300 000 ms (0 turns it off). */
  refreshIntervalMs?: number;
  /** How long the last good key set stays usable while fetches fail; default 3 600 000 ms. */
  maxStaleMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  /** Called after every fetch, with its outcome and why it was made (for metrics: `unknown_kid` is the one to watch). */
  onFetch?: (outcome: 'ok' | 'error', reason: JwksFetchReason) => void;
}

/** Why the cache fetched: its first load, the background refresh, or a token naming a kid it did not hold. */
export type JwksFetchReason = 'load' | 'refresh' | 'unknown_kid';

/** Thrown by `getKey` when no usable key set is held (never loaded, or stale beyond maxStaleMs). */
export class JwksUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwksUnavailableError';
  }
}

function algorithmOf(jwk: JWK): AccessTokenAlgorithm | undefined {
  if (jwk.alg) return (ACCESS_TOKEN_ALGORITHMS as readonly string[]).includes(jwk.alg) ? (jwk.alg as AccessTokenAlgorithm) : undefined;
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-384') return 'ES384';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return undefined; // RSA keys must name their algorithm; symmetric keys are never accepted.
}

/**
 * A JWKS cache that never costs a network call on the request path once loaded: `getKey` answers from memory,
 * refetches for an unknown kid at most once per cooldown (concurrent misses share one fetch), refreshes in the
 * background, and keeps the last good set while the publisher is down, up to `maxStaleMs`.
 * Throws TypeError on bad options.
 */
export function createJwksCache(options: JwksCacheOptions) {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new TypeError('createJwksCache: "url" must be an absolute URL');
  }
  const timeoutMs = options.timeoutMs ?? 3000;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const refreshIntervalMs = options.refreshIntervalMs ?? 300_000;
  const maxStaleMs = options.maxStaleMs ?? 3_600_000;
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  for (const [name, value] of Object.entries({ timeoutMs, cooldownMs, refreshIntervalMs, maxStaleMs })) {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`createJwksCache: "${name}" must be a non-negative number`);
  }

  let keys = new Map<string, ResolvedKey>();
  let loadedAt = -Infinity;
  let lastAttemptAt = -Infinity;
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function fetchOnce(reason: JwksFetchReason): Promise<void> {
    lastAttemptAt = now();
    try {
      const response = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`JWKS answered HTTP ${response.status}`);
      const body = (await response.json()) as { keys?: JWK[] };
      if (!Array.isArray(body.keys)) throw new Error('JWKS has no "keys" array');
      const next = new Map<string, ResolvedKey>();
      for (const jwk of body.keys) {
        const alg = algorithmOf(jwk);
        if (!jwk.kid || !alg || (jwk.use && jwk.use !== 'sig')) continue;
        if ('d' in jwk) continue; // a private key published by mistake is never used
        next.set(jwk.kid, { kid: jwk.kid, alg, key: (await importJWK(jwk, alg)) as CryptoKey | KeyObject });
      }
      keys = next;
      loadedAt = now();
      options.onFetch?.('ok', reason);
    } catch (error) {
      options.onFetch?.('error', reason);
      throw error;
    }
  }

  function refetch(reason: JwksFetchReason): Promise<void> {
    inFlight ??= fetchOnce(reason).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  function assertFresh() {
    if (now() - loadedAt > maxStaleMs) throw new JwksUnavailableError('No current signing keys: the key publisher is unreachable');
  }

  return {
    /** Loads the key set; rejects when the publisher cannot be reached. Starts the background refresh. */
    async load(): Promise<void> {
      await refetch('load');
      if (refreshIntervalMs > 0 && !timer) {
        timer = setInterval(() => refetch('refresh').catch(() => undefined), refreshIntervalMs);
        timer.unref();
      }
    },
    /**
     * The key for `kid`, or undefined when the publisher does not know it.
     * Throws JwksUnavailableError when the held set is older than maxStaleMs.
     */
    async getKey(kid: string): Promise<ResolvedKey | undefined> {
      const known = keys.get(kid);
      if (known) {
        assertFresh();
        return known;
      }
      if (inFlight) await inFlight.catch(() => undefined);
      else if (now() - lastAttemptAt >= cooldownMs) await refetch('unknown_kid').catch(() => undefined);
      assertFresh();
      return keys.get(kid);
    },
    get isReady() {
      return now() - loadedAt <= maxStaleMs;
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
export type JwksCache = ReturnType<typeof createJwksCache>;
