import { Redis } from 'ioredis';
import { createRedisHealth, type RedisHealth } from './redisHealth';

export type StreamState = 'live' | 'down';

/**
 * The writer of a Redis stream: fails fast while Redis is down or slow (no offline queue, one retry, a command
 * timeout), so that a caller never waits on it; the caller decides whether to try again.
 */
export function createStreamWriter(options: {
  url: string;
  key: string;
  retentionMs: number;
  commandTimeoutMs?: number;
  now?: () => number;
  /** Where its connection problems are counted and logged, as `client`. */
  health?: { monitor: RedisHealth; client: string };
}) {
  const now = options.now ?? Date.now;
  const writer = new Redis(options.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    commandTimeout: options.commandTimeoutMs ?? 50,
  });
  (options.health?.monitor ?? createRedisHealth()).watch(writer, options.health?.client ?? 'stream_writer');
  return {
    /** XADD, trimming entries older than the retention (by age, never by count). */
    async append(text: string) {
      if (writer.status === 'wait') await writer.connect();
      await writer.xadd(options.key, 'MINID', '~', String(now() - options.retentionMs), '*', 'event', text);
    },
    close() {
      writer.disconnect();
    },
  };
}

const READ_BATCH = 1000;

/**
 * Follows a Redis stream on a blocking connection of its own, from `from` (an entry id, or `newest`: after the last
 * entry there now), and after a reconnect from the last id it has seen, so that nothing in between is lost while it is
 * retained. `onState` reports whether Redis is reachable: `live` once every entry up to now has been delivered.
 */
export function followStream(options: {
  url: string;
  key: string;
  connectionName: string;
  from: string | 'newest';
  onEntry(text: string): void;
  onState?(state: StreamState): void;
  health?: { monitor: RedisHealth; client: string };
}): { close(): void } {
  const reader = new Redis(options.url, {
    connectionName: options.connectionName,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  let closed = false;
  let lastId: string | undefined = options.from === 'newest' ? undefined : options.from;
  let state: StreamState | undefined;
  const report = (next: StreamState) => {
    if (next !== state) options.onState?.((state = next));
  };
  (options.health?.monitor ?? createRedisHealth()).watch(reader, options.health?.client ?? 'stream_reader');
  reader.on('error', () => report('down'));
  reader.on('close', () => report('down'));
  const loop = async () => {
    while (!closed) {
      try {
        // Ids are Redis's own clock: "newest" is read from Redis, not guessed from ours.
        lastId ??= (await reader.xrevrange(options.key, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
        // Catching up (at start, after a reconnect) reads without waiting; once live, it blocks for what comes next.
        const result =
          state === 'live'
            ? await reader.xread('COUNT', READ_BATCH, 'BLOCK', 1000, 'STREAMS', options.key, lastId)
            : await reader.xread('COUNT', READ_BATCH, 'STREAMS', options.key, lastId);
        let read = 0;
        for (const [, entries] of result ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            read += 1;
            options.onEntry(fields[1] ?? '');
          }
        }
        // Live once caught up: every entry up to now applied (a full batch means more are waiting).
        if (read < READ_BATCH) report('live');
      } catch {
        if (closed) return;
        report('down');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  void loop();
  return {
    close() {
      closed = true;
      reader.disconnect();
    },
  };
}

/**
 * A bus of JSON messages on one Redis stream: `publish` appends (failing fast), `follow` reads from an id or the
 * newest entry, each follower on a connection of its own; what `decode` refuses is skipped.
 */
export function createStreamBus<T>(options: {
  url: string;
  key: string;
  retentionMs: number;
  commandTimeoutMs?: number;
  now?: () => number;
  connectionName: string;
  decode(text: string): T | undefined;
  /** Where the writer's and readers' connection problems are counted and logged, as `<name>_writer`, `<name>_reader`. */
  health?: { monitor: RedisHealth; name: string };
}) {
  const { health } = options;
  const writer = createStreamWriter({ ...options, health: health && { monitor: health.monitor, client: `${health.name}_writer` } });
  const readers = new Set<{ close(): void }>();
  return {
    publish: (message: T) => writer.append(JSON.stringify(message)),
    follow(from: string | 'newest', onMessage: (message: T) => void, onState?: (state: StreamState) => void) {
      const reader = followStream({
        url: options.url,
        key: options.key,
        connectionName: options.connectionName,
        from,
        onEntry(text) {
          const message = options.decode(text);
          if (message !== undefined) onMessage(message);
        },
        onState,
        health: health && { monitor: health.monitor, client: `${health.name}_reader` },
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
