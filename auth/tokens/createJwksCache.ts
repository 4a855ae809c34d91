import { calculateJwkThumbprint, importJWK, type CryptoKey, type JWK, type KeyObject } from 'jose';
import { ACCESS_TOKEN_ALGORITHMS, type AccessTokenAlgorithm } from './issueAccessToken';

export interface ResolvedKey {
  kid: string;
  /** The algorithm this key verifies. Chosen by the key, never by a token's header. */
  alg: AccessTokenAlgorithm;
  key: CryptoKey | KeyObject;
}

/** Why a key of a fetched set was left out; the rest of the set is used. */
export const SKIPPED_KEY_REASONS = [
  'kid_missing',
  'kid_duplicate',
  'algorithm_unsupported',
  'not_for_verification',
  'private_key',
  'key_invalid',
] as const;
export type SkippedKeyReason = (typeof SKIPPED_KEY_REASONS)[number];

export interface SkippedKey {
  /** The key's kid when it has a usable one (never key material). */
  kid?: string;
  reason: SkippedKeyReason;
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
  /** A larger response fails the fetch unread; default 1 MiB. */
  maxBytes?: number;
  /** A set with more keys fails the fetch; default 100. */
  maxKeys?: number;
  fetch?: typeof fetch;
  now?: () => number;
  /** Called after every fetch, with its outcome, why it was made (`unknown_kid` is the one to watch) and any error. */
  onFetch?: (outcome: 'ok' | 'error', reason: JwksFetchReason, error?: Error) => void;
  /** Called after every successful fetch with the keys it left out (often none), each with why. */
  onKeySet?: (keySet: { usable: number; skipped: readonly SkippedKey[] }) => void;
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

// What each algorithm needs of a key; anything else is refused before import.
const KEY_TYPES: Record<AccessTokenAlgorithm, { kty: string; crv?: string }> = {
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  RS256: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
};
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** RSA moduli under 2048 bits are refused (jose would refuse them later, at every token). */
const MIN_RSA_MODULUS_BYTES = 256;

function algorithmOf(jwk: JWK): AccessTokenAlgorithm | undefined {
  if (jwk.alg !== undefined) {
    return (ACCESS_TOKEN_ALGORITHMS as readonly unknown[]).includes(jwk.alg) ? (jwk.alg as AccessTokenAlgorithm) : undefined;
  }
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-384') return 'ES384';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return undefined; // RSA keys must name their algorithm; symmetric keys are never accepted.
}

/** Why `jwk` cannot verify access tokens, or its algorithm when it can (the import itself may still fail). */
function usability(jwk: JWK): { reason: SkippedKeyReason } | { alg: AccessTokenAlgorithm } {
  if (PRIVATE_MEMBERS.some((name) => name in jwk)) return { reason: 'private_key' };
  if (jwk.use !== undefined && jwk.use !== 'sig') return { reason: 'not_for_verification' };
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) {
    return { reason: 'not_for_verification' };
  }
  const alg = algorithmOf(jwk);
  if (!alg) return { reason: 'algorithm_unsupported' };
  const type = KEY_TYPES[alg];
  if (jwk.kty !== type.kty || (type.crv && jwk.crv !== type.crv)) return { reason: 'key_invalid' };
  if (type.kty === 'RSA' && (typeof jwk.n !== 'string' || Buffer.from(jwk.n, 'base64url').length < MIN_RSA_MODULUS_BYTES)) {
    return { reason: 'key_invalid' };
  }
  return { alg };
}

/** Reads at most `maxBytes` of a response body; more fails without reading the rest. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new Error(`JWKS response is larger than ${maxBytes} bytes`);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`JWKS response is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

interface HeldKey {
  resolved: ResolvedKey;
  /** The algorithm and RFC 7638 thumbprint: the same fingerprint is the same key, kept across fetches. */
  fingerprint: string;
}

/**
 * A JWKS cache that never costs a network call on the request path once loaded: `getKey` answers from memory,
 * refetches for an unknown kid at most once per cooldown (concurrent misses share one fetch), refreshes in the
 * background, and keeps the last good set while the publisher is down, up to `maxStaleMs`.
 * A key that cannot verify tokens (wrong use or key_ops, a private or symmetric key, a type that does not fit its
 * algorithm, a weak RSA modulus) is left out alone, never failing the set; a kid published twice is left out
 * entirely. A response over `maxBytes` or with more than `maxKeys` keys fails the fetch.
 * A set with no usable key at all fails the fetch, like an unreachable publisher: the last good set stays in use.
 * `generation` changes exactly when the held keys change, so a cached verdict can tell cheaply that its key is
 * unchanged. Throws TypeError on bad options.
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
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const maxKeys = options.maxKeys ?? 100;
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  for (const [name, value] of Object.entries({ timeoutMs, cooldownMs, refreshIntervalMs, maxStaleMs, maxBytes, maxKeys })) {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`createJwksCache: "${name}" must be a non-negative number`);
  }

  let keys = new Map<string, HeldKey>();
  let lastAttemptAt = -Infinity;
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function buildKeySet(jwks: JWK[]): Promise<{ next: Map<string, HeldKey>; skipped: SkippedKey[] }> {
    const skipped: SkippedKey[] = [];
    const byKid = new Map<string, JWK[]>();
    for (const jwk of jwks) {
      if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) skipped.push({ reason: 'key_invalid' });
      else if (typeof jwk.kid !== 'string' || !jwk.kid) skipped.push({ reason: 'kid_missing' });
      else byKid.set(jwk.kid, [...(byKid.get(jwk.kid) ?? []), jwk]);
    }
    const next = new Map<string, HeldKey>();
    for (const [kid, [jwk, ...others]] of byKid) {
      // Two keys under one kid: which one a token meant cannot be known, so neither is used.
      if (others.length) {
        skipped.push({ kid, reason: 'kid_duplicate' });
        continue;
      }
      const usable = usability(jwk);
      if ('reason' in usable) {
        skipped.push({ kid, reason: usable.reason });
        continue;
      }
      try {
        const fingerprint = `${usable.alg}:${await calculateJwkThumbprint(jwk)}`;
        const held = keys.get(kid);
        if (held?.fingerprint === fingerprint) next.set(kid, held);
        else next.set(kid, { fingerprint, resolved: { kid, alg: usable.alg, key: (await importJWK(jwk, usable.alg)) as CryptoKey } });
      } catch {
        skipped.push({ kid, reason: 'key_invalid' });
      }
    }
    return { next, skipped };
  }

  async function fetchOnce(reason: JwksFetchReason): Promise<void> {
    lastAttemptAt = now();
    try {
      const response = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`JWKS answered HTTP ${response.status}`);
      }
      const body = JSON.parse(await readCapped(response, maxBytes)) as { keys?: unknown };
      if (!Array.isArray(body?.keys)) throw new Error('JWKS has no "keys" array');
      if (body.keys.length > maxKeys) throw new Error(`JWKS holds ${body.keys.length} keys, more than ${maxKeys}`);
      const { next, skipped } = await buildKeySet(body.keys as JWK[]);
      // A set with no usable key would fail every valid token: a failed fetch, so the last good set stays in use.
      if (!next.size) {
        options.onKeySet?.({ usable: 0, skipped });
        throw new Error(body.keys.length ? 'JWKS holds no usable key' : 'JWKS holds no keys');
      }
      const changed = next.size !== keys.size || [...next].some(([kid, held]) => keys.get(kid) !== held);
      keys = next;
      if (changed) cache.generation += 1;
      cache.usableUntil = now() + maxStaleMs;
      options.onKeySet?.({ usable: next.size, skipped });
      options.onFetch?.('ok', reason);
    } catch (error) {
      options.onFetch?.('error', reason, error as Error);
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
    if (now() > cache.usableUntil) throw new JwksUnavailableError('No current signing keys: the key publisher is unreachable');
  }

  // generation and usableUntil are read on every cache hit of a verifier: plain data properties, written only by
  // fetchOnce (behind getters, a hit cost about a quarter more).
  const cache = {
    /** Changes whenever a key is added, removed or replaced; unchanged keys keep their ResolvedKey object. */
    generation: 0,
    /** Milliseconds since the epoch after which the held set is too stale to use. */
    usableUntil: -Infinity,
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
        return known.resolved;
      }
      if (inFlight) await inFlight.catch(() => undefined);
      else if (now() - lastAttemptAt >= cooldownMs) await refetch('unknown_kid').catch(() => undefined);
      assertFresh();
      return keys.get(kid)?.resolved;
    },
    /** The key held for `kid` right now: no fetch, no staleness check (see usableUntil). */
    heldKey(kid: string): ResolvedKey | undefined {
      return keys.get(kid)?.resolved;
    },
    get isReady() {
      return now() <= cache.usableUntil;
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
  return cache as Readonly<typeof cache>;
}
export type JwksCache = ReturnType<typeof createJwksCache>;
