import type { RedisHealth } from './redisHealth';
import { createStreamBus, type StreamState } from './redisStream';

/**
 * A change a subgraph announces for subscriptions, and every gateway reads. It names the object (the gateway looks
 * it up, as each subscriber, through the field the subscription's `@event` directive names) and who may hear of it;
 * it carries none of the object's data.
 */
export interface LiveEvent {
  /** The `@event(topic:)` it feeds, e.g. "complaints". */
  topic: string;
  /** The id the lookup field takes. */
  id: string;
  tenantId: string;
  /**
   * Who may hear of it, a first filter before any lookup: these users, and holders of `scope`, in the tenant. The
   * lookup runs as the subscriber, so the subgraph's own rules decide in the end.
   */
  audience: { userIds: string[]; scope?: string };
  /** What happened, e.g. "STATUS_CHANGED"; told to the client in the payload's extensions. */
  change: string;
  /** When it was published, ms since the epoch. */
  at: number;
}

export type EventBusState = StreamState;

export interface EventBus {
  /** Rejects when the event cannot be handed on (the caller decides whether to retry). */
  publish(event: LiveEvent): Promise<void>;
  /** Delivers every event published from now on; after a reconnect, those published meanwhile (within retention). */
  subscribe(onEvent: (event: LiveEvent) => void, onState?: (state: EventBusState) => void): { close(): Promise<void> };
  close(): Promise<void>;
}

const isText = (value: unknown, max = 200): value is string => typeof value === 'string' && value.length > 0 && value.length <= max;

/** Parses an event from the wire; undefined for anything malformed. */
export function decodeLiveEvent(text: string): LiveEvent | undefined {
  let value: Record<string, any>;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || !isText(value.topic) || !isText(value.id) || !isText(value.tenantId) || !isText(value.change)) return undefined;
  if (typeof value.at !== 'number' || !value.audience || !Array.isArray(value.audience.userIds)) return undefined;
  if (!value.audience.userIds.every((id: unknown) => isText(id)) || (value.audience.scope !== undefined && !isText(value.audience.scope)))
    return undefined;
  return value as LiveEvent;
}

/** The embedded default: events within one process (`npm start` runs the subgraphs and the gateway together). */
export function createMemoryEventBus(): EventBus {
  const listeners = new Set<(event: LiveEvent) => void>();
  return {
    async publish(event) {
      // A copy per delivery, as a wire would give: no listener sees another's changes.
      const text = JSON.stringify(event);
      for (const listener of listeners) listener(decodeLiveEvent(text)!);
    },
    subscribe(onEvent, onState) {
      listeners.add(onEvent);
      onState?.('live');
      return {
        async close() {
          listeners.delete(onEvent);
        },
      };
    },
    async close() {
      listeners.clear();
    },
  };
}

export interface RedisEventBusOptions {
  url: string;
  /** The stream's key; default `gatehouse:events`. */
  key?: string;
  /** How long events stay on the stream for a reader that reconnects (trimmed by age); default 5 minutes. */
  retentionMs?: number;
  /** The longest a publish waits on Redis; default 50 ms. */
  commandTimeoutMs?: number;
  now?: () => number;
  /** Where connection problems are counted and logged (`events_writer`, `events_reader`). */
  redisHealth?: RedisHealth;
}

/**
 * Events on a Redis stream rather than pub/sub: each gateway reads from the last id it has seen, so one that loses
 * Redis for a moment delivers, once back, what was published meanwhile (pub/sub would drop it without a trace).
 * The stream is trimmed by age; readers start at the present (a new subscription wants what happens from now on).
 */
export function createRedisEventBus(options: RedisEventBusOptions): EventBus {
  const bus = createStreamBus<LiveEvent>({
    url: options.url,
    key: options.key ?? 'gatehouse:events',
    retentionMs: options.retentionMs ?? 300_000,
    commandTimeoutMs: options.commandTimeoutMs,
    now: options.now,
    connectionName: 'gatehouse-event-reader',
    decode: decodeLiveEvent,
    health: options.redisHealth && { monitor: options.redisHealth, name: 'events' },
  });
  return {
    publish: bus.publish,
    subscribe: (onEvent, onState) => bus.follow('newest', onEvent, onState),
    close: bus.close,
  };
}

/**
 * The event bus a service uses: the launcher's in-process one when given (`shared`), else Redis when configured, else
 * one of this process only. `close` closes only a bus opened here.
 */
export function openEventBus(options: {
  shared?: EventBus;
  redisUrl?: string;
  keyPrefix?: string;
  commandTimeoutMs?: number;
  redisHealth?: RedisHealth;
}) {
  const own = options.shared
    ? undefined
    : options.redisUrl
      ? createRedisEventBus({
          url: options.redisUrl,
          key: `${options.keyPrefix ?? 'gatehouse:'}events`,
          commandTimeoutMs: options.commandTimeoutMs,
          redisHealth: options.redisHealth,
        })
      : createMemoryEventBus();
  return { bus: options.shared ?? own!, close: async () => own?.close() };
}
