import { createStreamWriter, followStream } from '../../service/redisStream';
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
}

/**
 * Revocations on a durable Redis stream. Publishing is XADD (trimmed by age, never by count, so nothing a gateway
 * still needs is dropped); each subscriber reads with its own blocking connection from the last id it has seen,
 * so a reconnect or a restart within the retention loses nothing.
 */
export function createRedisRevocationBus(options: RedisRevocationBusOptions): RevocationBus {
  const key = options.key ?? 'gatehouse:revocations';
  // Fails fast while Redis is down or slow, so a logout never waits on it (the outbox relay publishes again later).
  const writer = createStreamWriter({
    url: options.url,
    key,
    retentionMs: options.retentionMs ?? 3_600_000,
    commandTimeoutMs: options.commandTimeoutMs,
    now: options.now,
  });
  const readers = new Set<{ close(): void }>();

  return {
    publish: (event: RevocationEvent) => writer.append(JSON.stringify(event)),
    subscribe(sinceMs, onEvent, onState?: (state: BusState) => void) {
      const reader = followStream({
        url: options.url,
        key,
        connectionName: 'gatehouse-revocation-reader',
        from: `${Math.max(0, Math.floor(sinceMs))}-0`,
        onEntry(text) {
          const event = decodeRevocationEvent(text);
          if (event) onEvent(event);
        },
        onState,
      });
      readers.add(reader);
      return {
        async close() {
          readers.delete(reader);
          reader.close();
        },
      };
    },
    async close() {
      for (const reader of readers) reader.close();
      readers.clear();
      writer.close();
    },
  };
}
