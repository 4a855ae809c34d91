import { startStack, type Stack } from '../helpers/stack';
import { acme, decodePayload } from '../helpers/tokens';

// An admin change is one transaction with the revocation it calls for and that revocation's outbox event. The test
// makes the database fail the last step (a trigger it installs) and checks that nothing of the change remains.
let stack: Stack;
let admin: string;
beforeAll(async () => {
  stack = await startStack();
  admin = await stack.login('admin@acme.example', 'acme');
});
afterAll(async () => {
  await stack?.close();
});

/** While `run` runs, every insert into `table` fails, as a database failing mid-change would. */
async function failingInserts<T>(table: string, run: () => Promise<T>): Promise<T> {
  await stack.db.pool.query(`
    CREATE OR REPLACE FUNCTION auth.test_fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'injected failure'; END $$;
    CREATE TRIGGER test_fail_insert BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION auth.test_fail_insert();
  `);
  try {
    return await run();
  } finally {
    await stack.db.pool.query(`DROP TRIGGER test_fail_insert ON ${table}`);
  }
}

const credentialOf = async (userId: string) =>
  (
    await stack.db.pool.query<{ roles: string[]; disabled: boolean }>(
      'SELECT roles, disabled_at IS NOT NULL AS disabled FROM auth.credentials WHERE user_id = $1',
      [userId],
    )
  ).rows[0];
const liveSessions = async (userId: string) =>
  Number(
    (await stack.db.pool.query('SELECT count(*) AS n FROM auth.sessions WHERE user_id = $1 AND revoked_at IS NULL', [userId])).rows[0].n,
  );
const auditCount = async (event: string, userId: string) =>
  Number(
    (await stack.db.pool.query('SELECT count(*) AS n FROM auth.audit_events WHERE event = $1 AND user_id = $2', [event, userId])).rows[0].n,
  );

describe('admin changes are all or none', () => {
  it('setUserRoles: when the revocation cannot be queued, the roles stay as they were and the sessions live', async () => {
    const agent = await stack.login('agent@acme.example', 'acme');
    const sessions = await liveSessions(acme.users.agent.id);
    const result = await failingInserts('auth.revocation_outbox', () =>
      stack.gql(`mutation { setUserRoles(userId: "${acme.users.agent.id}", roles: [MANAGER]) { id roles } }`, { token: admin }),
    );
    expect(result.body.data?.setUserRoles ?? null).toBeNull();
    expect(result.body.errors?.[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');

    expect(await credentialOf(acme.users.agent.id)).toEqual({ roles: ['AGENT'], disabled: false });
    expect(await liveSessions(acme.users.agent.id)).toBe(sessions);
    expect(await auditCount('ROLES_CHANGED', acme.users.agent.id)).toBe(0);
    expect((await stack.gql('{ viewer { roles } }', { token: agent })).body.data.viewer.roles).toEqual(['AGENT']);

    // Without the failure the same change goes through whole: new roles, sessions ended, audited.
    const done = await stack.gql(`mutation { setUserRoles(userId: "${acme.users.agent.id}", roles: [MANAGER]) { roles } }`, {
      token: admin,
    });
    expect(done.body.data.setUserRoles.roles).toEqual(['MANAGER']);
    expect(await liveSessions(acme.users.agent.id)).toBe(0);
    expect(await auditCount('ROLES_CHANGED', acme.users.agent.id)).toBe(1);
    expect(decodePayload(await stack.login('agent@acme.example', 'acme')).roles).toEqual(['MANAGER']);
    await stack.gql(`mutation { setUserRoles(userId: "${acme.users.agent.id}", roles: [AGENT]) { id } }`, { token: admin });
  });

  it('setUserDisabled: when the revocation cannot be queued, the user stays enabled and signed in', async () => {
    const member = await stack.login('member@acme.example', 'acme');
    const result = await failingInserts('auth.revocation_outbox', () =>
      stack.gql(`mutation { setUserDisabled(userId: "${acme.users.member.id}", disabled: true) { id } }`, { token: admin }),
    );
    expect(result.body.errors?.[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(await credentialOf(acme.users.member.id)).toMatchObject({ disabled: false });
    expect(await liveSessions(acme.users.member.id)).toBeGreaterThan(0);
    expect(await auditCount('USER_DISABLED', acme.users.member.id)).toBe(0);
    expect((await stack.gql('{ me { id } }', { token: member })).status).toBe(200);
  });

  it('setUserDisabled(false): when the audit row cannot be written, the user stays disabled', async () => {
    await stack.gql(`mutation { setUserDisabled(userId: "${acme.users.manager.id}", disabled: true) { id } }`, { token: admin });
    const result = await failingInserts('auth.audit_events', () =>
      stack.gql(`mutation { setUserDisabled(userId: "${acme.users.manager.id}", disabled: false) { id } }`, { token: admin }),
    );
    expect(result.body.errors?.[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(await credentialOf(acme.users.manager.id)).toMatchObject({ disabled: true });
    expect(await auditCount('USER_ENABLED', acme.users.manager.id)).toBe(0);
    await stack.gql(`mutation { setUserDisabled(userId: "${acme.users.manager.id}", disabled: false) { id } }`, { token: admin });
    expect(await credentialOf(acme.users.manager.id)).toMatchObject({ disabled: false });
  });
});
