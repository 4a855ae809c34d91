import { randomUUID } from 'node:crypto';
import { scopesOf } from '../helpers/scopes';
import { createContextSigner } from '../../auth';
import { demoId } from '../../subgraphs/kit';
import { postToSubgraph, startStack, type Stack } from '../helpers/stack';
import { acme, globex } from '../helpers/tokens';

// A mutation may name an object another subgraph owns (@references in the SDL): one the caller cannot see there is
// refused exactly like one that does not exist, and nothing is written.
let stack: Stack;
let member: string;
let agent: string;
beforeAll(async () => {
  stack = await startStack();
  member = await stack.login('member@acme.example', 'acme');
  agent = await stack.login('agent@acme.example', 'acme');
});
afterAll(async () => {
  await stack?.close();
});

const FILE = 'mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { id relatedRecord { id } } }';
const file = (relatedRecordId: string) =>
  stack.gql(FILE, { token: member, variables: { input: { subject: `about ${relatedRecordId}`, description: 'd', relatedRecordId } } });
/** Complaints of acme naming the record (globex's own seeded complaints may name globex records). */
const complaintsAbout = async (recordId: string) =>
  Number(
    (
      await stack.db.pool.query('SELECT count(*) AS n FROM complaints.complaints WHERE tenant_id = $1 AND related_record_id = $2', [
        acme.id,
        recordId,
      ])
    ).rows[0].n,
  );
const errorOf = (result: {
  body: { errors?: Array<{ message: string; path?: (string | number)[]; extensions?: Record<string, any> }> };
}) => {
  const [error] = result.body.errors ?? [];
  return error && { message: error.message, path: error.path, code: error.extensions?.code };
};

describe('references to objects another subgraph owns', () => {
  it('a complaint may name a record the filer can see', async () => {
    const own = demoId(acme, 1, 1); // the member's own PUBLIC record
    const result = await file(own);
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data.fileComplaint.relatedRecord).toEqual({ id: own });
  });

  it.each([
    ["another user's CONFIDENTIAL record of the tenant", demoId(acme, 1, 6)],
    ["another tenant's record", demoId(globex, 1, 1)],
    ['a record that does not exist', randomUUID()],
  ])('naming %s is refused as a missing record (NOT_FOUND), and nothing is written', async (_name, recordId) => {
    const result = await file(recordId);
    expect(result.body.data).toEqual({ fileComplaint: null });
    expect(errorOf(result)).toEqual({ message: 'Record not found', path: ['fileComplaint'], code: 'NOT_FOUND' });
    expect(await complaintsAbout(recordId)).toBe(0);
  });

  it("assigning a complaint to another tenant's user is refused as a missing user; one of the tenant is accepted", async () => {
    const complaint = demoId(acme, 2, 1);
    const before = await stack.db.pool.query('SELECT assignee_id FROM complaints.complaints WHERE id = $1', [complaint]);
    const manager = await stack.login('manager@acme.example', 'acme');
    const assign = (assigneeId: string) =>
      stack.gql(`mutation { assignComplaint(id: "${complaint}", assigneeId: "${assigneeId}") { id assignee { id } } }`, { token: manager });
    for (const assigneeId of [globex.users.agent.id, randomUUID()]) {
      expect(errorOf(await assign(assigneeId))).toEqual({ message: 'User not found', path: ['assignComplaint'], code: 'NOT_FOUND' });
    }
    expect((await stack.db.pool.query('SELECT assignee_id FROM complaints.complaints WHERE id = $1', [complaint])).rows).toEqual(
      before.rows,
    );
    const accepted = await assign(acme.users.agent.id);
    expect(accepted.body.data.assignComplaint.assignee).toEqual({ id: acme.users.agent.id });
  });

  it('the subgraph refuses a reference no gateway lookup vouched for, even one the caller could see (deny by default)', async () => {
    const signer = createContextSigner({ masterSecret: stack.contextSecret });
    const context = {
      user: { id: acme.users.member.id, tenantId: acme.id, roles: ['MEMBER'], scopes: scopesOf(['MEMBER']), sessionId: randomUUID() },
      requestId: 'direct',
      clientAddress: '',
    };
    const own = demoId(acme, 1, 2);
    const result = await postToSubgraph(
      stack.subgraphs.complaints.url,
      'mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { id } }',
      (body) => signer.sign(context, 'complaints', body),
      { variables: { input: { subject: 's', description: 'd', relatedRecordId: own } } },
    );
    expect(result.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(await complaintsAbout(own)).toBe(0);
  });

  it('looks references up as the caller, through the owning subgraph', async () => {
    stack.resetCalls();
    await stack.gql(FILE, { token: agent, variables: { input: { subject: 's', description: 'd', relatedRecordId: demoId(acme, 1, 5) } } });
    expect(stack.subgraphs.records.calls.length).toBeGreaterThanOrEqual(1);
    expect(await complaintsAbout(demoId(acme, 1, 5))).toBe(1); // the agent's own INTERNAL record
  });
});
