import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Kind, parse, type DocumentNode, type GraphQLError } from 'graphql';
import type pg from 'pg';
import { ErrorCode, gatehouseError, toPublicError } from '../../auth';
import { isDatabaseUnavailable, type Database, type Tx } from './database';
import { isUuid } from './pagination';

/** Who retries with which key and which request (the signed hash of the call's body). */
export interface IdempotentRequest {
  schema: string;
  tenantId: string;
  userId: string;
  key: string;
  requestHash: string;
  ttlSeconds: number;
}

/** A mutation under way in one transaction that will also hold its answer. */
export interface IdempotentAttempt {
  /** The request's database: every withTenant of the caller's tenant joins the transaction (as a savepoint). */
  database: Database;
  /** Stores the answer with the writes and commits; throws SERVICE_UNAVAILABLE if that fails (nothing is kept). */
  commit(response: string): Promise<void>;
  /** Abandons the attempt: nothing it wrote, and no key, is kept. */
  rollback(): Promise<void>;
  /** Runs `task` once the attempt has committed (never if it does not), e.g. publishing what it queued. */
  afterCommit(task: () => Promise<unknown>): void;
}

export type IdempotencyOutcome = { kind: 'first'; attempt: IdempotentAttempt } | { kind: 'replay'; response: string } | { kind: 'reused' };

export const idempotencyKeyReused = () =>
  gatehouseError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'This Idempotency-Key was used for another request', { reason: 'key_reused' });

const unavailable = (cause: unknown) =>
  Object.assign(
    gatehouseError(ErrorCode.SERVICE_UNAVAILABLE, 'The service is temporarily unavailable', { reason: 'database_unavailable' }),
    { cause },
  );

/**
 * Safe retries (the IETF Idempotency-Key draft), for one subgraph. The first request with a key inserts the key in a
 * transaction that the mutation's writes then join, and commits its answer with them: all or nothing. A retry with
 * the same key, caller and request waits for that transaction (the key's row lock) and is answered from it; with
 * another request it is refused (IDEMPOTENCY_KEY_REUSED). If the first attempt failed, nothing was kept and the retry
 * runs as a first. Keys expire after `ttlSeconds`.
 */
export async function beginIdempotent(pool: pg.Pool, base: Database, request: IdempotentRequest): Promise<IdempotencyOutcome> {
  const { schema, tenantId, userId, key, requestHash } = request;
  const table = `${schema}.idempotency_keys`;
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new TypeError(`beginIdempotent: bad schema name "${schema}"`);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw unavailable(error);
  }
  let open = true;
  const finish = async (sql: 'COMMIT' | 'ROLLBACK') => {
    if (!open) return;
    open = false;
    try {
      await client.query(sql);
      client.release();
    } catch (error) {
      client.release(true);
      throw error;
    }
  };
  try {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('role', '${base.role}', true), set_config('app.tenant_id', $1, true)`, [tenantId]);
    // Expired keys of this tenant go (a few at a time); an expired key may be used again.
    await client.query(
      `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE tenant_id = $1 AND expires_at <= now() LIMIT 100))`,
      [tenantId],
    );
    const inserted = await client.query(
      `INSERT INTO ${table} (tenant_id, user_id, key, request_hash, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) ON CONFLICT DO NOTHING RETURNING key`,
      [tenantId, userId, key, requestHash, request.ttlSeconds],
    );
    if (!inserted.rowCount) {
      // Another request holds or held this key; ON CONFLICT waited for it to commit or roll back.
      const { rows } = await client.query<{ request_hash: string; response: string | null }>(
        `SELECT request_hash, response FROM ${table} WHERE tenant_id = $1 AND user_id = $2 AND key = $3`,
        [tenantId, userId, key],
      );
      await finish('ROLLBACK');
      const stored = rows[0];
      if (!stored) return beginIdempotent(pool, base, request); // it rolled back meanwhile: this is the first now
      if (stored.request_hash !== requestHash) return { kind: 'reused' };
      return stored.response === null ? { kind: 'reused' } : { kind: 'replay', response: stored.response };
    }
  } catch (error) {
    await finish('ROLLBACK').catch(() => undefined);
    throw isDatabaseUnavailable(error) ? unavailable(error) : error;
  }

  let savepoints = 0;
  // The mutation's own transactions become savepoints of this one: a resolver that fails undoes only its own writes.
  // Another tenant (or none) is a setting switched for the savepoint's length: never a second connection, which an
  // embedded database of one connection could not give while this one is held.
  const joined = async <T>(tenant: string, fn: (tx: Tx) => Promise<T>): Promise<T> => {
    const name = `gatehouse_${++savepoints}`;
    const switchTo = (id: string) => client.query(`SELECT set_config('app.tenant_id', $1, true)`, [id]);
    await client.query(`SAVEPOINT ${name}`);
    try {
      if (tenant !== tenantId) await switchTo(tenant);
      const result = await fn(client as Tx);
      if (tenant !== tenantId) await switchTo(tenantId);
      await client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw unavailable(error);
      // Also undoes the switched setting.
      await client.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => undefined);
      throw error;
    }
  };
  const database: Database = {
    pool: base.pool,
    role: base.role,
    ping: () => base.ping(),
    withTenant: (id, fn) => {
      if (!isUuid(id)) throw new TypeError('withTenant: the tenant id must be a UUID');
      return joined(id, fn);
    },
    withoutTenant: (fn) => joined('', fn),
  };
  const afterCommit: Array<() => Promise<unknown>> = [];
  return {
    kind: 'first',
    attempt: {
      database,
      async commit(response) {
        try {
          await client.query(`UPDATE ${table} SET response = $4 WHERE tenant_id = $1 AND user_id = $2 AND key = $3`, [
            tenantId,
            userId,
            key,
            response,
          ]);
          await finish('COMMIT');
        } catch (error) {
          await finish('ROLLBACK').catch(() => undefined);
          throw unavailable(error);
        }
        for (const task of afterCommit) await task().catch(() => undefined);
      },
      rollback: () => finish('ROLLBACK').catch(() => undefined),
      afterCommit: (task) => void afterCommit.push(task),
    },
  };
}

/** The response names of a mutation operation's root fields, or null when the operation is not a mutation. */
export function mutationRootFields(document: DocumentNode): string[] | null {
  const operation = document.definitions.find((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'mutation') return null;
  return operation.selectionSet.selections.flatMap((selection) =>
    selection.kind === Kind.FIELD ? [selection.alias?.value ?? selection.name.value] : [],
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set while a mutation sent with an Idempotency-Key runs: its transaction, committed with its answer. */
    idempotentAttempt?: IdempotentAttempt;
  }
}

/** Errors at each root field of a mutation, without data: the whole of what the subgraph answers. */
function errorsAtRootFields(fields: string[], error: GraphQLError): string {
  const { error: shown } = toPublicError(error);
  return JSON.stringify({
    data: null,
    errors: (fields.length ? fields : [undefined]).map((field) => ({ ...shown, ...(field ? { path: [field] } : {}) })),
  });
}

/** A response that must not be stored for replay: a failure a retry may not meet again. */
function isTransientFailure(payload: string): boolean {
  try {
    const { errors } = JSON.parse(payload) as { errors?: Array<{ extensions?: { code?: string } }> };
    const transient: ReadonlySet<string> = new Set([ErrorCode.SERVICE_UNAVAILABLE, ErrorCode.INTERNAL_SERVER_ERROR]);
    return (errors ?? []).some((error) => transient.has(String(error.extensions?.code)));
  } catch {
    return true;
  }
}

/**
 * Wires safe retries into a subgraph's GraphQL route (after the context checks): a mutation that the gateway signed
 * with an Idempotency-Key runs in one transaction with its key (see beginIdempotent) and its answer is committed with
 * its writes — unless it failed for a reason a retry may not meet (SERVICE_UNAVAILABLE, INTERNAL_SERVER_ERROR): then
 * nothing is kept, and the answer says so for every field, so that the retry runs it again.
 */
export function registerIdempotentMutations(scope: FastifyInstance, options: { db: Database; schema: string; ttlSeconds: number }) {
  const rootFields = new WeakMap<FastifyRequest, string[]>();
  scope.addHook('preHandler', async (request, reply) => {
    const forwarded = request.gatehouseContext;
    const query = (request.body as { query?: unknown } | undefined)?.query;
    if (!forwarded?.idempotencyKey || !forwarded.user || typeof query !== 'string') return;
    let fields: string[] | null;
    try {
      fields = mutationRootFields(parse(query));
    } catch {
      return; // mercurius answers the syntax error
    }
    if (!fields) return;
    rootFields.set(request, fields);
    let outcome: IdempotencyOutcome;
    try {
      outcome = await beginIdempotent(options.db.pool, options.db, {
        schema: options.schema,
        tenantId: forwarded.user.tenantId,
        userId: forwarded.user.id,
        key: forwarded.idempotencyKey,
        requestHash: request.bodyHash!,
        ttlSeconds: options.ttlSeconds,
      });
    } catch (error) {
      request.log.warn({ err: error }, 'idempotency key could not be checked');
      return reply
        .code(200)
        .type('application/json')
        .send(errorsAtRootFields(fields, error as GraphQLError));
    }
    if (outcome.kind === 'replay') return reply.code(200).type('application/json').send(outcome.response);
    if (outcome.kind === 'reused') return reply.code(200).type('application/json').send(errorsAtRootFields(fields, idempotencyKeyReused()));
    request.idempotentAttempt = outcome.attempt;
  });
  // Every reply passes here, also when the gateway has hung up meanwhile: the answer is then kept for its retry.
  scope.addHook('onSend', async (request, reply, payload) => {
    const attempt = request.idempotentAttempt;
    if (!attempt) return payload;
    request.idempotentAttempt = undefined;
    const fields = rootFields.get(request) ?? [];
    if (reply.statusCode >= 500 || typeof payload !== 'string' || isTransientFailure(payload)) {
      await attempt.rollback();
      return typeof payload === 'string' && reply.statusCode < 500 ? errorsAtRootFields(fields, unavailable(undefined)) : payload;
    }
    try {
      await attempt.commit(payload);
      return payload;
    } catch (error) {
      request.log.warn(
        { err: (error as { cause?: unknown }).cause ?? error },
        'a mutation could not be committed with its idempotency key',
      );
      return errorsAtRootFields(fields, error as GraphQLError);
    }
  });
}
