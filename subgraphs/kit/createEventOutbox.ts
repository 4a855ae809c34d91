import type pg from 'pg';
import { openEventBus, type EventBus, type LiveEvent } from '../../service/eventBus';
import type { RedisHealth } from '../../service/redisHealth';
import { createOutboxRelay } from './createOutboxRelay';
import type { Tx } from './database';

export interface EventOutboxOptions {
  pool: pg.Pool;
  /** The subgraph's schema, which holds its `event_outbox` (a kit migration). */
  schema: string;
  /** The launcher's in-process bus (`npm start`); otherwise Redis when `redisUrl` is set, else one of its own. */
  bus?: EventBus;
  redisUrl?: string;
  keyPrefix?: string;
  redisTimeoutMs?: number;
  /** Where the bus's Redis connection problems are counted and logged (the service's, reported by the kit). */
  redisHealth?: RedisHealth;
  /** How often what could not be published is tried again; default 1 s. */
  retryIntervalMs?: number;
}

/**
 * The events a subgraph announces for subscriptions, through an outbox: `record` writes the event in the transaction
 * of the change, `flush` (after the commit) hands pending events to the bus and deletes them, and a timer retries
 * what the bus refused. A change rolled back announces nothing; a bus down at commit time delays its events, never
 * loses them. Several instances may relay at once: rows are claimed with SKIP LOCKED.
 */
export function createEventOutbox(options: EventOutboxOptions) {
  if (!/^[a-z_][a-z0-9_]*$/.test(options.schema)) throw new TypeError(`createEventOutbox: bad schema name "${options.schema}"`);
  const table = `${options.schema}.event_outbox`;
  const { bus, close: closeBus } = openEventBus({
    shared: options.bus,
    redisUrl: options.redisUrl,
    keyPrefix: options.keyPrefix,
    commandTimeoutMs: options.redisTimeoutMs,
    redisHealth: options.redisHealth,
  });
  const relay = createOutboxRelay<LiveEvent>({
    pool: options.pool,
    table,
    publish: (event) => bus.publish(event),
    what: 'event',
    intervalMs: options.retryIntervalMs,
  });

  return {
    bus,
    /** Writes the event in the change's transaction (`at` is now). */
    async record(tx: Tx, event: Omit<LiveEvent, 'at'>): Promise<void> {
      await tx.query(`INSERT INTO ${table} (tenant_id, event) VALUES ($1, $2)`, [event.tenantId, { ...event, at: Date.now() }]);
    },
    /** Publishes what is pending (after the commit); resolves with how many were published. */
    flush: () => relay.flush(),
    /** Retries on a timer from now on; `logger` hears of a bus that is down. */
    start: (logger?: { warn(details: object, message: string): void }) => relay.start(logger),
    async close() {
      await relay.stop();
      await closeBus();
    },
  };
}
export type EventOutbox = ReturnType<typeof createEventOutbox>;
