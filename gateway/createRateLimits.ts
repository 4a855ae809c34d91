import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RedisHealth } from '../service/redisHealth';

export interface RateLimitOptions {
  /** Requests per window; 0 turns a limit off. */
  perUser: number;
  perTenant: number;
  perAddress: number;
  windowSeconds: number;
  /** With a URL, counters are shared by every gateway instance; without, each instance counts alone. */
  redisUrl?: string;
  keyPrefix: string;
  /** The longest a request waits on Redis before counting in memory instead; default 50 ms. */
  redisTimeoutMs?: number;
  /** Where Redis connection problems are counted and logged (`rate_limits`): a fallback to memory is never silent. */
  redisHealth: RedisHealth;
}

export type RateLimitScope = 'user' | 'tenant' | 'address';
export type RateLimitDecision = { ok: true } | { ok: false; scope: RateLimitScope; retryAfterSeconds: number };

/**
 * Request limits per user, per tenant and per client address (rate-limiter-flexible). On Redis they are shared by
 * all gateway instances; if Redis is unreachable, or slower than `redisTimeoutMs`, each instance falls back to
 * counting in memory (availability over strictness — the login limits of the auth service fail closed instead).
 */
export function createRateLimits(options: RateLimitOptions) {
  const redis = options.redisUrl
    ? new Redis(options.redisUrl, {
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        connectTimeout: 2000,
        commandTimeout: options.redisTimeoutMs ?? 50,
      })
    : undefined;
  if (redis) options.redisHealth.watch(redis, 'rate_limits');
  const make = (scope: RateLimitScope, points: number): RateLimiterAbstract | undefined => {
    if (points <= 0) return undefined;
    const memory = new RateLimiterMemory({ keyPrefix: scope, points, duration: options.windowSeconds });
    if (!redis) return memory;
    return new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${options.keyPrefix}ratelimit:${scope}`,
      points,
      duration: options.windowSeconds,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory,
    });
  };
  const limiters = {
    user: make('user', options.perUser),
    tenant: make('tenant', options.perTenant),
    address: make('address', options.perAddress),
  };

  return {
    /** False when every limit is off: there is nothing to spend per request. */
    active: Object.values(limiters).some(Boolean),
    /** Spends one request for each key given; the first exhausted scope decides. */
    async consume(keys: { user?: string; tenant?: string; address: string }): Promise<RateLimitDecision> {
      const attempts: Array<[RateLimitScope, Promise<unknown>]> = [];
      for (const scope of ['user', 'tenant', 'address'] as const) {
        const key = keys[scope];
        const limiter = limiters[scope];
        if (key !== undefined && limiter) attempts.push([scope, limiter.consume(key)]);
      }
      const results = await Promise.allSettled(attempts.map(([, attempt]) => attempt));
      for (const [index, result] of results.entries()) {
        if (result.status === 'rejected' && result.reason instanceof RateLimiterRes) {
          return { ok: false, scope: attempts[index][0], retryAfterSeconds: Math.max(1, Math.ceil(result.reason.msBeforeNext / 1000)) };
        }
      }
      return { ok: true };
    },
    close() {
      redis?.disconnect();
    },
  };
}
export type RateLimits = ReturnType<typeof createRateLimits>;
