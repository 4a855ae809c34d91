import { createContextSigner } from '../../auth';
import { scopesOf } from '../helpers/scopes';
import { createDatabase, demoId, requestRoleOf } from '../../subgraphs/kit';
import { postToSubgraph, startStack, type Stack } from '../helpers/stack';
import { acme, globex, mintAccessToken } from '../helpers/tokens';

let stack: Stack;
let globexManager: string;
let globexMember: string;
beforeAll(async () => {
  stack = await startStack();
  globexManager = await stack.login('manager@globex.example', 'globex');
  globexMember = await stack.login('member@globex.example', 'globex');
});
afterAll(async () => {
  await stack?.close();
});

const acmeRecord = demoId(acme, 1, 1); // PUBLIC, owned by acme's member
const acmeComplaint = demoId(acme, 2, 1);
const codeOf = (result: { body: { errors?: Array<{ extensions?: Record<string, any> }> } }) => result.body.errors?.[0]?.extensions?.code;

describe('a globex user never sees acme data', () => {
  it.each([
    ['record', `{ record(id: "${acmeRecord}") { title } }`],
    ['complaint', `{ complaint(id: "${acmeComplaint}") { subject } }`],
    ['user', `{ user(id: "${acme.users.member.id}") { displayName } }`],
  ])('by direct id (%s): null and NOT_FOUND, exactly like a missing id', async (field, query) => {
    const foreign = await stack.gql(query, { token: globexManager });
    const missing = await stack.gql(query.replace(/"[^"]+"/, '"00000009-0000-4000-8000-000000000009"'), { token: globexManager });
    expect(foreign.body.data).toEqual({ [field]: null });
    expect(codeOf(foreign)).toBe('NOT_FOUND');
    expect(foreign.body).toEqual(missing.body);
  });

  it('in lists and pages', async () => {
    const result = await stack.gql(
      '{ records(first: 100) { nodes { id owner { id } } } complaints(first: 100) { nodes { id filedBy { id } } } users(first: 100) { nodes { id email } } }',
      {
        token: globexManager,
      },
    );
    expect(result.body.errors).toBeUndefined();
    const ids = [
      ...result.body.data.records.nodes.flatMap((n: any) => [n.id, n.owner.id]),
      ...result.body.data.complaints.nodes.flatMap((n: any) => [n.id, n.filedBy.id]),
      ...result.body.data.users.nodes.map((n: any) => n.id),
    ];
    expect(ids.length).toBeGreaterThan(10);
    expect(ids.every((id: string) => id.startsWith('00000002-'))).toBe(true);
    expect(JSON.stringify(result.body)).not.toContain('acme');
  });

  it('through nested references to acme entities', async () => {
    // Naming an acme record is refused as a missing one (references are looked up as the caller).
    const refused = await stack.gql(
      'mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { id relatedRecord { id title } } }',
      { token: globexMember, variables: { input: { subject: 'About that record', description: 'x', relatedRecordId: acmeRecord } } },
    );
    expect(refused.body.data).toEqual({ fileComplaint: null });
    expect(refused.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const filed = await stack.gql('mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { id } }', {
      token: globexMember,
      variables: { input: { subject: 'About nothing in particular', description: 'x' } },
    });
    const nested = await stack.gql(`{ complaint(id: "${filed.body.data.fileComplaint.id}") { filedBy { id records { nodes { id } } } } }`, {
      token: globexMember,
    });
    expect(nested.body.data.complaint.filedBy.records.nodes.every((r: any) => r.id.startsWith('00000002-'))).toBe(true);
  });

  it('through _entities, even with a validly signed globex context', async () => {
    const signer = createContextSigner({ masterSecret: stack.contextSecret });
    const context = {
      user: { id: globex.users.admin.id, tenantId: globex.id, roles: ['ADMIN'], scopes: scopesOf(['ADMIN']), sessionId: 's' },
      requestId: 'r',
      clientAddress: '127.0.0.1',
    };
    const cases = [
      ['users', 'User', acme.users.member.id, '... on User { id email displayName }'],
      ['records', 'Record', acmeRecord, '... on Record { id title body }'],
      ['complaints', 'Complaint', acmeComplaint, '... on Complaint { id subject }'],
      ['auth', 'User', acme.users.member.id, '... on User { id roles }'],
    ] as const;
    for (const [name, typename, id, selection] of cases) {
      const result = await postToSubgraph(
        stack.subgraphs[name].url,
        `query($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`,
        (body) => signer.sign(context, name, body),
        { variables: { r: [{ __typename: typename, id }] } },
      );
      expect({ name, entities: result.body.data?._entities }).toEqual({ name, entities: [null] });
    }
  });

  it('and cannot change acme rows: mutations answer NOT_FOUND and write nothing', async () => {
    // A manager who has just proved a second factor, so that step-up is not what stops the archive.
    const globexManager = await mintAccessToken(stack.signingKey, {
      issuer: stack.issuer,
      audience: stack.audience,
      userId: globex.users.manager.id,
      tenantId: globex.id,
      roles: ['MANAGER'],
      amr: ['pwd', 'otp'],
    });
    const before = await stack.db.pool.query('SELECT title, archived_at FROM records.records WHERE id = $1', [acmeRecord]);
    const complaintBefore = await stack.db.pool.query('SELECT status, assignee_id FROM complaints.complaints WHERE id = $1', [
      acmeComplaint,
    ]);
    const commentsBefore = await stack.db.pool.query('SELECT count(*)::int AS n FROM complaints.comments');
    const attempts = [
      `mutation { updateRecord(id: "${acmeRecord}", input: { title: "pwned" }) { id } }`,
      `mutation { archiveRecord(id: "${acmeRecord}") { id } }`,
      `mutation { assignComplaint(id: "${acmeComplaint}", assigneeId: "${globex.users.agent.id}") { id } }`,
      `mutation { updateComplaintStatus(id: "${acmeComplaint}", status: IN_PROGRESS) { id } }`,
      `mutation { addComplaintComment(id: "${acmeComplaint}", body: "hello") { id } }`,
    ];
    for (const mutation of attempts) {
      const result = await stack.gql(mutation, { token: globexManager });
      expect({ mutation, code: codeOf(result) }).toEqual({ mutation, code: 'NOT_FOUND' });
    }
    expect((await stack.db.pool.query('SELECT title, archived_at FROM records.records WHERE id = $1', [acmeRecord])).rows).toEqual(
      before.rows,
    );
    expect(
      (await stack.db.pool.query('SELECT status, assignee_id FROM complaints.complaints WHERE id = $1', [acmeComplaint])).rows,
    ).toEqual(complaintBefore.rows);
    expect((await stack.db.pool.query('SELECT count(*)::int AS n FROM complaints.comments')).rows).toEqual(commentsBefore.rows);
  });
});

describe('row-level security underneath', () => {
  it('a query that forgets its tenant filter still returns only the tenant set for the transaction', async () => {
    const all = await stack.db.pool.query('SELECT DISTINCT tenant_id FROM records.records');
    expect(all.rows.length).toBe(2); // the owner sees both tenants: the table really holds acme rows
    for (const table of [
      'records.records',
      'complaints.complaints',
      'complaints.comments',
      'users.profiles',
      'auth.credentials',
      'auth.sessions',
    ]) {
      // Each table as the request role of the service that owns it (no other may read it at all).
      const db = createDatabase(stack.db.pool, requestRoleOf(table.split('.')[0]));
      const rows = await db.withTenant(globex.id, async (tx) => (await tx.query(`SELECT tenant_id FROM ${table}`)).rows);
      expect({ table, foreign: rows.filter((row) => row.tenant_id !== globex.id).length }).toEqual({ table, foreign: 0 });
    }
    const records = createDatabase(stack.db.pool, requestRoleOf('records'));
    const none = await records.withoutTenant(async (tx) => (await tx.query('SELECT count(*)::int AS n FROM records.records')).rows[0].n);
    expect(none).toBe(0);
  });

  it('refuses to write a row into another tenant', async () => {
    const db = createDatabase(stack.db.pool, requestRoleOf('records'));
    await expect(
      db.withTenant(globex.id, (tx) =>
        tx.query("INSERT INTO records.records (tenant_id, owner_id, title, body, classification) VALUES ($1, $2, 't', 'b', 'PUBLIC')", [
          acme.id,
          acme.users.member.id,
        ]),
      ),
    ).rejects.toThrow(/row-level security/);
  });
});
