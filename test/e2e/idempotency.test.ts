import { randomUUID } from 'node:crypto';
import { eventually } from '../helpers/eventually';
import { startStack, type Stack } from '../helpers/stack';

// Safe retries: a mutation sent with Idempotency-Key is answered once and written once, whatever the client retries.
let stack: Stack;
let member: string;
let agent: string;
beforeAll(async () => {
  stack = await startStack({ gatewayEnv: { SUBGRAPH_RECORDS_TIMEOUT_MS: '300' } });
  member = await stack.login('member@acme.example', 'acme');
  agent = await stack.login('agent@acme.example', 'acme');
});
afterAll(async () => {
  await stack?.close();
});

const CREATE = 'mutation($input: CreateRecordInput!) { createRecord(input: $input) { id title } }';
const create = (title: string, key?: string, token = member, body = 'written once') =>
  stack.gql(CREATE, {
    token,
    variables: { input: { title, body } },
    headers: key === undefined ? {} : { 'idempotency-key': key },
  });
const rowsTitled = async (title: string) =>
  (await stack.db.pool.query<{ id: string }>('SELECT id FROM records.records WHERE title = $1', [title])).rows;
const codeOf = (result: { body: { errors?: Array<{ extensions?: Record<string, any> }> } }) => result.body.errors?.[0]?.extensions;

describe('Idempotency-Key', () => {
  /** While `run` runs, the records subgraph holds each answer for 2.5 s after its work is done: the gateway gives up. */
  async function slowAnswers<T>(run: () => Promise<T>): Promise<T> {
    stack.responseDelays.records = 2500; // undici counts timeouts in coarse ticks: far over the gateway's 300 ms
    try {
      return await run();
    } finally {
      stack.responseDelays.records = 0;
    }
  }

  it('a retry after the gateway gave up answers the write that committed meanwhile, and writes nothing', async () => {
    const key = randomUUID();
    const first = await slowAnswers(async () => {
      const answer = await create('after-timeout', key);
      await eventually(async () => (await rowsTitled('after-timeout')).length === 1);
      return answer;
    });
    expect(first.body.data).toEqual({ createRecord: null });
    expect(codeOf(first)).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'subgraph_unavailable' });

    const retry = await create('after-timeout', key);
    expect(retry.body.errors).toBeUndefined();
    const [row] = await rowsTitled('after-timeout');
    expect(retry.body.data.createRecord).toEqual({ id: row.id, title: 'after-timeout' });
    expect(await rowsTitled('after-timeout')).toHaveLength(1);
  });

  it('without a key the same retry writes twice (what the key is for)', async () => {
    await slowAnswers(async () => {
      expect(codeOf(await create('no-key'))?.code).toBe('SERVICE_UNAVAILABLE');
      await eventually(async () => (await rowsTitled('no-key')).length === 1);
    });
    expect((await create('no-key')).body.errors).toBeUndefined();
    expect(await rowsTitled('no-key')).toHaveLength(2);
  });

  it('the same key with another request is refused (IDEMPOTENCY_KEY_REUSED) and writes nothing', async () => {
    const key = randomUUID();
    expect((await create('reused-a', key)).body.data.createRecord.title).toBe('reused-a');
    const other = await create('reused-b', key);
    expect(other.body.data).toEqual({ createRecord: null });
    expect(other.body.errors?.map((error) => [error.path, error.extensions])).toEqual([
      [['createRecord'], { code: 'IDEMPOTENCY_KEY_REUSED', reason: 'key_reused' }],
    ]);
    expect(await rowsTitled('reused-b')).toHaveLength(0);
  });

  it('belongs to its caller: another user with the same key writes their own', async () => {
    const key = randomUUID();
    const mine = await create('per-user', key, member);
    const theirs = await create('per-user', key, agent);
    expect(theirs.body.data.createRecord.id).not.toBe(mine.body.data.createRecord.id);
    expect(await rowsTitled('per-user')).toHaveLength(2);
  });

  it('concurrent requests with one key write once and all get the same answer', async () => {
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 6 }, () => create('concurrent', key)));
    const ids = new Set(answers.map((answer) => answer.body.data?.createRecord?.id));
    expect(ids.size).toBe(1);
    expect(await rowsTitled('concurrent')).toHaveLength(1);
  });

  it('keeps nothing of a write that failed, so the retry writes it', async () => {
    const key = randomUUID();
    await stack.db.pool.query(`
      CREATE OR REPLACE FUNCTION records.test_fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected failure'; END $$;
      CREATE TRIGGER test_fail_insert BEFORE INSERT ON records.records FOR EACH ROW EXECUTE FUNCTION records.test_fail_insert();
    `);
    let failed;
    try {
      failed = await create('failed-first', key);
    } finally {
      await stack.db.pool.query('DROP TRIGGER test_fail_insert ON records.records');
    }
    expect(codeOf(failed)?.code).toBe('SERVICE_UNAVAILABLE');
    const kept = await stack.db.pool.query('SELECT count(*)::int AS n FROM records.idempotency_keys WHERE key = $1', [key]);
    expect(kept.rows[0].n).toBe(0);
    expect((await create('failed-first', key)).body.data.createRecord.title).toBe('failed-first');
    expect(await rowsTitled('failed-first')).toHaveLength(1);
  });

  it('expires: once its time is past, the key writes again', async () => {
    const key = randomUUID();
    await create('expiring', key);
    await stack.db.pool.query("UPDATE records.idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1", [key]);
    expect((await create('expiring', key)).body.errors).toBeUndefined();
    expect(await rowsTitled('expiring')).toHaveLength(2);
  });

  it('is refused when malformed, before any subgraph call; a query with a key is answered as usual', async () => {
    stack.resetCalls();
    const result = await create('malformed', 'x'.repeat(256));
    expect(result.status).toBe(400);
    expect(codeOf(result)).toEqual({ code: 'BAD_USER_INPUT', reason: 'idempotency_key_invalid' });
    expect(stack.totalCalls()).toBe(0);
    const query = await stack.gql('{ me { id } }', { token: member, headers: { 'idempotency-key': randomUUID() } });
    expect(query.body.errors).toBeUndefined();
  });
});
