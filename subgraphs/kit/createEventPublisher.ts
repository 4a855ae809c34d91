import { createMemoryEventBus, createRedisEventBus, type EventBus, type LiveEvent } from '../../service/eventBus';

export interface EventPublisherOptions {
  /** The launcher's in-process bus (`npm start`); otherwise Redis when `redisUrl` is set, else one of its own. */
  bus?: EventBus;
  redisUrl?: string;
  keyPrefix?: string;
  redisTimeoutMs?: number;
  /** Waits between attempts while the bus refuses an event; default 100 ms, 1 s, 5 s. */
  retryDelaysMs?: readonly number[];
  log?: { warn(details: object, message: string): void };
}

/**
 * Announces committed changes to the gateways' subscriptions. `announce` never throws and never delays the answer:
 * an event the bus refuses is tried again a few times, then given up and logged (a subscriber misses one update;
 * the data itself is committed).
 */
export function createEventPublisher(options: EventPublisherOptions) {
  const ownBus = options.bus
    ? undefined
    : options.redisUrl
      ? createRedisEventBus({
          url: options.redisUrl,
          key: `${options.keyPrefix ?? 'gatehouse:'}events`,
          commandTimeoutMs: options.redisTimeoutMs,
        })
      : createMemoryEventBus();
  const bus = options.bus ?? ownBus!;
  const delays = options.retryDelaysMs ?? [100, 1000, 5000];
  const pending = new Set<Promise<void>>();
  let log = options.log;

  async function deliver(event: LiveEvent) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await bus.publish(event);
      } catch (error) {
        if (attempt >= delays.length) {
          log?.warn({ topic: event.topic, change: event.change, error: (error as Error).message }, 'event not published; given up');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delays[attempt]).unref());
      }
    }
  }

  return {
    bus,
    /** Where a given-up event is reported (the service's logger, once it exists). */
    useLog(logger: NonNullable<EventPublisherOptions['log']>) {
      log = logger;
    },
    /** Hands the event on in the background; call it once the change is committed (`ctx.afterCommit`). */
    announce(event: Omit<LiveEvent, 'at'>): void {
      const delivery = deliver({ ...event, at: Date.now() }).finally(() => pending.delete(delivery));
      pending.add(delivery);
    },
    /** Waits for events in hand, then closes the bus it opened. */
    async close() {
      await Promise.allSettled([...pending]);
      await ownBus?.close();
    },
  };
}
export type EventPublisher = ReturnType<typeof createEventPublisher>;
