import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { ErrorCode, gatehouseError } from '../../auth';
import type { RedisHealth } from '../../service/redisHealth';

export interface ThrottleOptions {
  /** With a URL, counters live in Redis (shared by every auth instance); without, in memory. */
  redisUrl?: string;
  keyPrefix: string;
  /** Attempts per account (tenant + email, or a challenge's user) per window. */
  perAccount: number;
  /** Attempts per client address per window. */
  perAddress: number;
  windowSeconds: number;
  /** The longest an attempt waits on Redis before failing closed; default 50 ms. */
  redisTimeoutMs?: number;
  /** Where Redis connection problems are counted and logged (`login_throttle`). */
  redisHealth: RedisHealth;
}

export type ThrottleKind = 'login' | 'code';

/** The caller was throttled: RATE_LIMITED with the seconds to wait. */
function rateLimited(retryAfterMs: number) {
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return gatehouseError(ErrorCode.RATE_LIMITED, `Too many attempts; retry in ${retryAfterSeconds} s`, {
    reason: 'too_many_attempts',
    extensions: { retryAfterSeconds },
  });
}

/**
 * Brute-force limits for login and code verification (rate-limiter-flexible). Every attempt costs a point up front
 * — so parallel attempts cannot slip past the limit — and a success gives the account's points back. Accounts are
 * counted whether or not they exist, so throttling tells nothing about which emails are real. When Redis is
 * configured but unreachable or slower than `redisTimeoutMs`, attempts fail closed with SERVICE_UNAVAILABLE, at once
 * and never as a wrong password.
 */
export function createThrottle(options: ThrottleOptions) {
  const redis = options.redisUrl
    ? new Redis(options.redisUrl, {
        lazyConnect: false,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        connectTimeout: 2000,
        commandTimeout: options.redisTimeoutMs ?? 50,
      })
    : undefined;
  if (redis) options.redisHealth.watch(redis, 'login_throttle');
  const make = (name: string, points: number): RateLimiterAbstract =>
    redis
      ? new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: `${options.keyPrefix}${name}`,
          points,
          duration: options.windowSeconds,
          rejectIfRedisNotReady: true,
        })
      : new RateLimiterMemory({ keyPrefix: name, points, duration: options.windowSeconds });
  const limiters = {
    login: { account: make('login-account', options.perAccount), address: make('login-address', options.perAddress) },
    code: { account: make('code-account', options.perAccount), address: make('code-address', options.perAddress) },
  };
  const accountKey = (account: string) => createHash('sha256').update(account).digest('base64url');

  return {
    /** Spends one attempt for the account and/or the address given; throws RATE_LIMITED or SERVICE_UNAVAILABLE. */
    async attempt(kind: ThrottleKind, who: { account?: string; address?: string }): Promise<void> {
      const spending: Promise<unknown>[] = [];
      if (who.account !== undefined) spending.push(limiters[kind].account.consume(accountKey(who.account)));
      if (who.address !== undefined) spending.push(limiters[kind].address.consume(who.address || 'unknown'));
      try {
        await Promise.all(spending);
      } catch (error) {
        if (error instanceof RateLimiterRes) throw rateLimited(error.msBeforeNext);
        throw Object.assign(
          gatehouseError(ErrorCode.SERVICE_UNAVAILABLE, 'Sign-in is temporarily unavailable', { reason: 'throttle_unavailable' }),
          { cause: error },
        );
      }
    },
    /** After a success: the account's failed attempts are forgiven. */
    async succeeded(kind: ThrottleKind, account: string): Promise<void> {
      await limiters[kind].account.delete(accountKey(account)).catch(() => undefined);
    },
    async close() {
      redis?.disconnect();
    },
  };
}
export type Throttle = ReturnType<typeof createThrottle>;
