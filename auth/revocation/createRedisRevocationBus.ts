import { Redis } from 'ioredis';
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
  const retentionMs = options.retentionMs ?? 3_600_000;
  const now = options.now ?? Date.now;
  // Fails fast while Redis is down or slow, so a logout never waits on it (the outbox relay publishes again later).
  const writer = new Redis(options.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    commandTimeout: options.commandTimeoutMs ?? 50,
  });
  writer.on('error', () => undefined);
  const readers = new Set<Redis>();

  return {
    async publish(event: RevocationEvent) {
      if (writer.status === 'wait') await writer.connect();
      await writer.xadd(key, 'MINID', '~', String(now() - retentionMs), '*', 'event', JSON.stringify(event));
    },
    subscribe(sinceMs, onEvent, onState?: (state: BusState) => void) {
      const reader = new Redis(options.url, {
        connectionName: 'gatehouse-revocation-reader',
        maxRetriesPerRequest: null,
        retryStrategy: (times) => Math.min(times * 100, 1000),
      });
      readers.add(reader);
      let closed = false;
      let lastId = `${Math.max(0, Math.floor(sinceMs))}-0`;
      let state: BusState | undefined;
      const report = (next: BusState) => {
        if (next !== state) onState?.((state = next));
      };
      reader.on('error', () => report('down'));
      reader.on('close', () => report('down'));
      const loop = async () => {
        while (!closed) {
          try {
            const result = await reader.xread('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', key, lastId);
            report('live');
            for (const [, entries] of result ?? []) {
              for (const [id, fields] of entries) {
                lastId = id;
                const event = decodeRevocationEvent(fields[1] ?? '');
                if (event) onEvent(event);
              }
            }
          } catch {
            if (closed) return;
            report('down');
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
      };
      void loop();
      return {
        async close() {
          closed = true;
          readers.delete(reader);
          reader.disconnect();
        },
      };
    },
    async close() {
      for (const reader of readers) reader.disconnect();
      readers.clear();
      writer.disconnect();
    },
  };
}
