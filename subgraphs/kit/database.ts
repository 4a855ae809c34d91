import pg from 'pg';
import { ErrorCode, gatehouseError, isUuid } from '../../auth';

/** What data/ modules get: a connection inside a transaction, already scoped to one tenant. */
export interface Tx {
  query<R extends pg.QueryResultRow = Record<string, any>>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * The role one service's requests run as (`gatehouse_<schema>_app`): it owns nothing, does not bypass row-level
 * security, and is granted its own schema's tables only, so a service cannot read another's even through a bug. The
 * migrations create it; the service's login role must be a member of it (deploy/postgres/init-gatehouse.sh makes it so;
 * a superuser is, implicitly).
 */
export function requestRoleOf(schema: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new TypeError(`requestRoleOf: bad schema name "${schema}"`);
  return `gatehouse_${schema}_app`;
}

export interface Database {
  /** The role every statement runs as (requestRoleOf the service's schema). */
  readonly role: string;
  /** Runs `fn` in one transaction as the request role with `app.tenant_id` set (SET LOCAL semantics). */
  withTenant<T>(tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs `fn` in one transaction as the request role with no tenant: row-level security then shows no tenant rows. */
  withoutTenant<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** The owner's connection, for migrations and seeds only. */
  readonly pool: pg.Pool;
  ping(): Promise<void>;
}

// Connection-level failures: Postgres is down or restarting. They answer SERVICE_UNAVAILABLE, never a wrong answer.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08003',
  '08006',
]);

export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  if (code && UNAVAILABLE_CODES.has(code)) return true;
  const message = (error as Error | undefined)?.message ?? '';
  return /Connection terminated|not queryable|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(message);
}

function unavailable() {
  return gatehouseError(ErrorCode.SERVICE_UNAVAILABLE, 'The service is temporarily unavailable', { reason: 'database_unavailable' });
}

/**
 * Wraps a pg.Pool (real Postgres, or PGlite through its node-postgres adapter) with tenant-scoped transactions that
 * run as `role` (requestRoleOf the service's schema).
 */
export function createDatabase(pool: pg.Pool, role: string, options: { onStatement?: () => void } = {}): Database {
  if (!/^[a-z_][a-z0-9_]*$/.test(role)) throw new TypeError(`createDatabase: bad role name "${role}"`);
  // Every statement a request transaction sends, BEGIN and COMMIT included (the SQL-statements metric).
  const onStatement = options.onStatement;
  async function transaction<T>(tenantId: string | null, fn: (tx: Tx) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw isDatabaseUnavailable(error) ? Object.assign(unavailable(), { cause: error }) : error;
    }
    let broken = false;
    try {
      // One round trip for BEGIN and both settings: the tenant id is a UUID (checked here), so it can be inlined.
      if (tenantId !== null && !isUuid(tenantId)) throw new TypeError('withTenant: the tenant id must be a UUID');
      await client.query(`BEGIN; SELECT set_config('role', '${role}', true), set_config('app.tenant_id', '${tenantId ?? ''}', true)`);
      onStatement?.();
      const tx: Tx = onStatement
        ? {
            query(text: string, params?: unknown[]) {
              onStatement();
              return client.query(text, params) as never;
            },
          }
        : (client as Tx);
      const result = await fn(tx);
      await client.query('COMMIT');
      onStatement?.();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      if (isDatabaseUnavailable(error)) {
        broken = true;
        throw Object.assign(unavailable(), { cause: error });
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }
  return {
    pool,
    role,
    withTenant: (tenantId, fn) => transaction(tenantId, fn),
    withoutTenant: (fn) => transaction(null, fn),
    async ping() {
      await pool.query('SELECT 1');
    },
  };
}
