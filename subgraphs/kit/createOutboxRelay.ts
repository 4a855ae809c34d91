import type pg from 'pg';

export interface OutboxRelayOptions<T> {
  pool: pg.Pool;
  /** `schema.table`, with `id bigserial` and `event jsonb` (and `published_at` when `keepPublished`). */
  table: string;
  /** Hands one message on; rejects when it cannot (the row stays, and is tried again). */
  publish(message: T): Promise<void>;
  /** Mark published rows (`published_at`) rather than delete them. */
  keepPublished?: boolean;
  /** What is relayed, for the log: "revocation", "event". */
  what: string;
  /** How often what could not be published is tried again; default 1 s. */
  intervalMs?: number;
}

/**
 * Moves messages from an outbox table (written in the transaction of the change they announce) to where they go.
 * `flush` runs right after a change commits; a timer retries whatever could not be published (the bus was down).
 * Several instances may relay at once: rows are claimed with SKIP LOCKED.
 */
export function createOutboxRelay<T>(options: OutboxRelayOptions<T>) {
  if (!/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/.test(options.table)) throw new TypeError(`createOutboxRelay: bad table "${options.table}"`);
  const { table } = options;
  const pending = options.keepPublished ? 'WHERE published_at IS NULL ' : '';
  const done = options.keepPublished
    ? `UPDATE ${table} SET published_at = now() WHERE id = ANY($1::bigint[])`
    : `DELETE FROM ${table} WHERE id = ANY($1::bigint[])`;
  let log: { warn(details: object, message: string): void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  async function flushOnce(): Promise<number> {
    const client = await options.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string; event: T }>(
        `SELECT id, event FROM ${table} ${pending}ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED`,
      );
      const published: string[] = [];
      for (const row of rows) {
        try {
          await options.publish(row.event);
          published.push(row.id);
        } catch (error) {
          log?.warn({ error: (error as Error).message }, `${options.what} bus unavailable; will retry`);
          break;
        }
      }
      if (published.length) await client.query(done, [published]);
      await client.query('COMMIT');
      return published.length;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  const relay = {
    /**
     * Publishes what is pending; resolves with how many were published. Passes run one after another, and each call
     * gets a pass that starts after it was made, so a row committed before the call is always included.
     */
    flush(): Promise<number> {
      const pass = queue.then(flushOnce, flushOnce);
      queue = pass.catch(() => undefined);
      return pass;
    },
    /** Retries on a timer from now on; `logger` hears of a bus that is down. */
    start(logger?: { warn(details: object, message: string): void }) {
      log = logger ?? log;
      timer ??= setInterval(() => void relay.flush().catch(() => undefined), options.intervalMs ?? 1000);
      timer.unref();
    },
    /** Stops retrying, once the pass under way is done. */
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await queue;
    },
  };
  return relay;
}
export type OutboxRelay = ReturnType<typeof createOutboxRelay>;
