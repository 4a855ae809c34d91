import type pg from 'pg';
import type { RevocationBus, RevocationEvent } from '../../auth';

export interface RelayLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Moves revocations from the outbox table to the bus. `flush` runs right after each revoking transaction commits;
 * a timer retries whatever could not be published (the bus was down), so every revocation reaches the gateways.
 * Several auth instances may relay at once: rows are claimed with SKIP LOCKED.
 */
export function createRevocationRelay(options: { pool: pg.Pool; bus: RevocationBus; intervalMs?: number; log: RelayLogger }) {
  let timer: NodeJS.Timeout | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  async function flushOnce(): Promise<number> {
    const client = await options.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string; event: RevocationEvent }>(
        'SELECT id, event FROM auth.revocation_outbox WHERE published_at IS NULL ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED',
      );
      const published: string[] = [];
      for (const row of rows) {
        try {
          await options.bus.publish(row.event);
          published.push(row.id);
        } catch (error) {
          options.log.warn({ err: error }, 'revocation bus unavailable; will retry');
          break;
        }
      }
      if (published.length)
        await client.query('UPDATE auth.revocation_outbox SET published_at = now() WHERE id = ANY($1::bigint[])', [published]);
      await client.query('COMMIT');
      return published.length;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  return {
    /**
     * Publishes what is pending; resolves with how many were published. Passes run one after another, and each
     * call gets a pass that starts after it was made, so a row committed before the call is always included.
     */
    flush(): Promise<number> {
      const pass = queue.then(flushOnce, flushOnce);
      queue = pass.catch(() => undefined);
      return pass;
    },
    start() {
      timer ??= setInterval(() => void this.flush().catch(() => undefined), options.intervalMs ?? 1000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
export type RevocationRelay = ReturnType<typeof createRevocationRelay>;
