import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';

interface HealthLog {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

export interface RedisHealthOptions {
  /** At most one line per client in this interval while it keeps failing (the first failure is logged at once). */
  logEveryMs?: number;
  now?: () => number;
}

/**
 * Watches the Redis clients of one service. Every connection problem is counted
 * (`gatehouse_redis_connection_errors_total{client}`) and logged without secrets — the first of a client at once, then
 * at most one line per `logEveryMs` with how many came since, and one line when the client is back — and `degraded()`
 * names the clients that are down, for readiness. A client that degrades to a fallback (per-instance rate limits,
 * sign-ins refused) is then never silent about it.
 */
export function createRedisHealth(options: RedisHealthOptions = {}) {
  const logEveryMs = options.logEveryMs ?? 60_000;
  const now = options.now ?? Date.now;
  let log: HealthLog | undefined;
  let counter: Counter<'client'> | undefined;
  const down = new Map<string, { since: number; loggedAt: number; unlogged: number; errors: number }>();
  const totals = new Map<string, number>();

  function failed(client: string, error: Error & { code?: string }) {
    totals.set(client, (totals.get(client) ?? 0) + 1);
    counter?.inc({ client });
    // The message and code only: never the URL, which may carry a password.
    const details = { client, error: error.message, ...(error.code ? { code: error.code } : {}) };
    const state = down.get(client);
    if (!state) {
      down.set(client, { since: now(), loggedAt: now(), unlogged: 0, errors: 1 });
      log?.warn(details, 'redis connection failed; degraded until it is back');
      return;
    }
    state.errors += 1;
    if (now() - state.loggedAt < logEveryMs) {
      state.unlogged += 1;
      return;
    }
    log?.warn({ ...details, errorsSinceLastLine: state.unlogged + 1 }, 'redis connection still failing');
    state.loggedAt = now();
    state.unlogged = 0;
  }

  function recovered(client: string) {
    const state = down.get(client);
    if (!state) return;
    down.delete(client);
    log?.info({ client, errors: state.errors, downForMs: now() - state.since }, 'redis connection back');
  }

  return {
    /** Follows one client's connection under `client` (a name for logs, metrics and readiness: `rate_limits`, …). */
    watch(redis: Redis, client: string): void {
      redis.on('error', (error: Error) => failed(client, error));
      redis.on('ready', () => recovered(client));
    },
    /** Where problems are logged and counted; until bound (a service's logger comes after its clients), only counted here. */
    bind(target: { log: HealthLog; registry: Registry }): void {
      log = target.log;
      counter =
        (target.registry.getSingleMetric('gatehouse_redis_connection_errors_total') as Counter<'client'> | undefined) ??
        new Counter({
          name: 'gatehouse_redis_connection_errors_total',
          help: 'Redis connection problems, by client (rate_limits, login_throttle, revocations_writer, events_reader, …)',
          labelNames: ['client'],
          registers: [target.registry],
        });
      for (const [client, count] of totals) counter.inc({ client }, count);
      for (const [client, state] of down) log.warn({ client, errors: state.errors }, 'redis connection failed; degraded until it is back');
    },
    /** The clients that are down now, by name (empty when all are well). */
    degraded(): string[] {
      return [...down.keys()].sort();
    },
  };
}
export type RedisHealth = ReturnType<typeof createRedisHealth>;
