import type { RedisHealth } from '../../service/redisHealth';
import { createStreamBus } from '../../service/redisStream';
import { decodeRevocationEvent, type BusState, type RevocationBus, type RevocationEvent } from './revocationEvents';

export interface RedisRevocationBusOptions {
  url: string;
  /** The stream's key; default `gatehouse:revocations`. */
  key?: string;
  /** How long events are kept (trimmed by age with MINID): at least the longest token lifetime. Default 1 h. */
  retentionMs?: number;
  /** The longest a publish waits on Redis; default 50 ms. A slow or hung Redis fails the publish, which is retried. */
  commandTimeoutMs?: number;
  now?: () => number;
  /** Where connection problems are counted and logged (`revocations_writer`, `revocations_reader`). */
  redisHealth?: RedisHealth;
}

/**
 * Revocations on a durable Redis stream. Publishing is XADD (trimmed by age, never by count, so nothing a gateway
 * still needs is dropped); each subscriber reads with its own blocking connection from the last id it has seen,
 * so a reconnect or a restart within the retention loses nothing.
 */
export function createRedisRevocationBus(options: RedisRevocationBusOptions): RevocationBus {
  // Publishing fails fast while Redis is down or slow, so a logout never waits on it (the outbox relay publishes again).
  const bus = createStreamBus<RevocationEvent>({
    url: options.url,
    key: options.key ?? 'gatehouse:revocations',
    retentionMs: options.retentionMs ?? 3_600_000,
    commandTimeoutMs: options.commandTimeoutMs,
    now: options.now,
    connectionName: 'gatehouse-revocation-reader',
    decode: decodeRevocationEvent,
    health: options.redisHealth && { monitor: options.redisHealth, name: 'revocations' },
  });
  return {
    publish: bus.publish,
    subscribe: (sinceMs, onEvent, onState?: (state: BusState) => void) =>
      bus.follow(`${Math.max(0, Math.floor(sinceMs))}-0`, onEvent, onState),
    close: bus.close,
  };
}
