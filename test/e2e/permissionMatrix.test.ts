import { demoId, type DemoTenant } from '../../subgraphs/kit';
import { buildPermissionMatrix } from '../../scripts/permissionMatrix';
import { connectWs } from '../helpers/liveClients';
import { startStack, type GraphQLResult, type Stack } from '../helpers/stack';
import { acme, globex, mintAccessToken } from '../helpers/tokens';

/**
 * The whole permission matrix, run through the gateway: every field of every subgraph, for every role of both
 * tenants and for anonymous callers. Each field has a probe (a test fails for a field without one); the expected
 * outcome comes from the generated matrix itself, so the documented matrix, the rules and the behaviour cannot drift apart.
 */

type Role = 'ADMIN' | 'MANAGER' | 'AGENT' | 'MEMBER';
const ROLES: Role[] = ['ADMIN', 'MANAGER', 'AGENT', 'MEMBER'];
type Who = Role | 'ANONYMOUS';
interface Probe {
  query: string;
  /** Where the field's value is in the response; '*' for any list index. */
  path: Array<string>;
  /** 'session': a real login; 'minted': a token with a fresh second factor (for mutations). */
  token?: 'session' | 'minted';
  /** For a probe on someone else's row-scoped object, NOT_FOUND is how a refusal looks. */
  notFoundDenies?: boolean;
  /** A subscription: subscribed to over the gateway's WebSocket (refused, or open and quiet for a moment). */
  overWebSocket?: boolean;
}
interface ProbeSet {
  own?: Probe;
  other?: Probe;
}
interface Subject {
  role: Who;
  tenant: DemoTenant;
}

const ROLE_KEY: Record<Role, 'admin' | 'manager' | 'agent' | 'member'> = {
  ADMIN: 'admin',
  MANAGER: 'manager',
  AGENT: 'agent',
  MEMBER: 'member',
};
const RANDOM_ID = '00000009-0000-4000-8000-000000000009';
/** Someone else of the same tenant than `role`. */
const otherUser = (s: Subject) => (s.role === 'MEMBER' ? s.tenant.users.agent : s.tenant.users.member);
const ownRecord = (s: Subject) => demoId(s.tenant, 1, s.role === 'AGENT' ? 4 : s.role === 'MANAGER' ? 7 : 1);
/** A PUBLIC record of someone else (everyone may read it). */
const othersPublicRecord = (s: Subject) => demoId(s.tenant, 1, s.role === 'MEMBER' ? 4 : 1);
const ownComplaint = (s: Subject) => demoId(s.tenant, 2, s.role === 'AGENT' ? 3 : 1);
const othersComplaint = (s: Subject) => demoId(s.tenant, 2, s.role === 'MEMBER' ? 3 : 1);

const q = (query: string, path: string[], extra: Partial<Probe> = {}): Probe => ({ query, path, ...extra });
const both = (probe: Probe): ProbeSet => ({ own: probe, other: probe });
const m = (query: string, path: string[], extra: Partial<Probe> = {}) => both(q(query, path, { token: 'minted', ...extra }));
const page = (root: string, field: string) =>
  both(
    q(
      `{ ${root}(first: 2) { ${field === 'nodes' ? 'nodes { __typename }' : field === 'pageInfo' ? 'pageInfo { hasNextPage }' : `pageInfo { ${field} }`} } }`,
      [root, field === 'nodes' || field === 'pageInfo' ? field : 'pageInfo'],
    ),
  );
const viewerField = (field: string) => both(q(`{ viewer { ${field === 'user' ? 'user { id }' : field} } }`, ['viewer', field]));
const auditField = (field: string) =>
  both(q(`{ auditEvents(first: 1) { nodes { ${field === 'user' ? 'user { id }' : field} } } }`, ['auditEvents', 'nodes', '*', field]));
const recordField =
  (field: string) =>
  (s: Subject): ProbeSet => ({
    own: q(`{ record(id: "${ownRecord(s)}") { id ${field === 'owner' ? 'owner { id }' : field} } }`, ['record', field]),
    other: q(`{ record(id: "${othersPublicRecord(s)}") { id ${field === 'owner' ? 'owner { id }' : field} } }`, ['record', field]),
  });
const complaintField =
  (field: string) =>
  (s: Subject): ProbeSet => {
    const selection = ['filedBy', 'assignee', 'relatedRecord'].includes(field)
      ? `${field} { id }`
      : field === 'comments'
        ? 'comments { id }'
        : field;
    return { own: q(`{ complaint(id: "${ownComplaint(s)}") { id ${selection} } }`, ['complaint', field]) };
  };
const commentField =
  (field: string) =>
  (s: Subject): ProbeSet => ({
    own: q(`{ complaint(id: "${demoId(s.tenant, 2, 1)}") { comments { id ${field === 'author' ? 'author { id }' : field} } } }`, [
      'complaint',
      'comments',
      '*',
      field,
    ]),
  });
const userField =
  (field: string, select = field) =>
  (s: Subject): ProbeSet => ({
    own: q(`{ me { id ${select} } }`, ['me', field]),
    other: q(`{ user(id: "${otherUser(s).id}") { id ${select} } }`, ['user', field]),
  });
const LOGIN = (s: Subject, select: string) =>
  `mutation { login(input: { email: "member@${s.tenant.slug}.example", password: "gatehouse-demo", tenant: "${s.tenant.slug}" }) { ${select} } }`;
const CHALLENGE = (s: Subject, select: string) =>
  `mutation { login(input: { email: "admin@${s.tenant.slug}.example", password: "gatehouse-demo", tenant: "${s.tenant.slug}" }) { ... on TwoFactorChallenge { ${select} } } }`;

/** How to reach each field. Keys are `subgraph Type.field`, as in the matrix. */
const PROBES: Record<string, ProbeSet | ((s: Subject) => ProbeSet)> = {
  'auth Query.viewer': both(q('{ viewer { userId } }', ['viewer'])),
  'auth Query.auditEvents': both(q('{ auditEvents(first: 1) { nodes { id } } }', ['auditEvents'])),
  'auth Mutation.login': (s) => both(q(LOGIN(s, '__typename'), ['login'])),
  'auth Mutation.verifyLoginCode': m('mutation { verifyLoginCode(challengeId: "x", code: "000000") { accessToken } }', ['verifyLoginCode']),
  'auth Mutation.refreshSession': m('mutation { refreshSession(refreshToken: "x") { accessToken } }', ['refreshSession']),
  'auth Mutation.revokeUserSessions': m(`mutation { revokeUserSessions(userId: "${RANDOM_ID}") }`, ['revokeUserSessions']),
  'auth Mutation.startTotpEnrolment': m('mutation { startTotpEnrolment { secret } }', ['startTotpEnrolment']),
  'auth Mutation.confirmTotpEnrolment': m('mutation { confirmTotpEnrolment(code: "000000") { accessToken } }', ['confirmTotpEnrolment']),
  'auth Mutation.disableTotp': m('mutation { disableTotp(code: "000000") { accessToken } }', ['disableTotp']),
  'auth Mutation.changePassword': m('mutation { changePassword(currentPassword: "not it at all", newPassword: "x") { accessToken } }', [
    'changePassword',
  ]),
  'auth Mutation.resetUserPassword': m(`mutation { resetUserPassword(userId: "${RANDOM_ID}") { userId } }`, ['resetUserPassword']),
  'auth Mutation.stepUpSession': m('mutation { stepUpSession(code: "000000") { accessToken } }', ['stepUpSession']),
  'auth Mutation.inviteUser': m(
    `mutation { inviteUser(input: { userId: "not-an-id", email: "x@example.com", roles: [MEMBER] }) { userId } }`,
    ['inviteUser'],
  ),
  'auth Mutation.acceptInvitation': m(
    'mutation { acceptInvitation(invitationToken: "x", password: "long enough password") { accessToken } }',
    ['acceptInvitation'],
  ),
  'auth Mutation.setUserRoles': m(`mutation { setUserRoles(userId: "${RANDOM_ID}", roles: [MEMBER]) { id } }`, ['setUserRoles']),
  'auth Mutation.setUserDisabled': m(`mutation { setUserDisabled(userId: "${RANDOM_ID}", disabled: true) { id } }`, ['setUserDisabled']),
  'auth Invitation.userId': m(
    `mutation { inviteUser(input: { userId: "not-an-id", email: "x@example.com", roles: [MEMBER] }) { userId } }`,
    ['inviteUser', 'userId'],
  ),
  'auth Invitation.invitationToken': m(
    `mutation { inviteUser(input: { userId: "not-an-id", email: "x@example.com", roles: [MEMBER] }) { invitationToken } }`,
    ['inviteUser', 'invitationToken'],
  ),
  'auth Invitation.expiresAt': m(
    `mutation { inviteUser(input: { userId: "not-an-id", email: "x@example.com", roles: [MEMBER] }) { expiresAt } }`,
    ['inviteUser', 'expiresAt'],
  ),
  'auth TotpEnrolment.secret': m('mutation { startTotpEnrolment { secret } }', ['startTotpEnrolment', 'secret']),
  'auth TotpEnrolment.otpauthUri': m('mutation { startTotpEnrolment { otpauthUri } }', ['startTotpEnrolment', 'otpauthUri']),
  'auth TwoFactorChallenge.challengeId': (s) => both(q(CHALLENGE(s, 'challengeId'), ['login', 'challengeId'])),
  'auth TwoFactorChallenge.methods': (s) => both(q(CHALLENGE(s, 'methods'), ['login', 'methods'])),
  'auth User.id': both(q('{ viewer { user { id } } }', ['viewer', 'user', 'id'])),
  'auth User.roles': userField('roles'),
  'auth PageInfo.hasNextPage': page('auditEvents', 'hasNextPage'),
  'auth PageInfo.endCursor': page('auditEvents', 'endCursor'),
  'auth AuditEventConnection.nodes': page('auditEvents', 'nodes'),
  'auth AuditEventConnection.pageInfo': page('auditEvents', 'pageInfo'),
  'users Query.me': both(q('{ me { id } }', ['me'])),
  'users Query.user': (s) => both(q(`{ user(id: "${otherUser(s).id}") { id } }`, ['user'])),
  'users Query.users': both(q('{ users(first: 2) { nodes { id } } }', ['users'])),
  'users Mutation.createUser': m('mutation { createUser(input: { email: "not-an-email", displayName: "x" }) { id } }', ['createUser']),
  'users PageInfo.hasNextPage': page('users', 'hasNextPage'),
  'users PageInfo.endCursor': page('users', 'endCursor'),
  'users UserConnection.nodes': page('users', 'nodes'),
  'users UserConnection.pageInfo': page('users', 'pageInfo'),
  'users Tenant.id': both(q('{ me { tenant { id } } }', ['me', 'tenant', 'id'])),
  'users Tenant.slug': both(q('{ me { tenant { slug } } }', ['me', 'tenant', 'slug'])),
  'users Tenant.name': both(q('{ me { tenant { name } } }', ['me', 'tenant', 'name'])),
  'users User.id': both(q('{ me { id } }', ['me', 'id'])),
  'users User.email': userField('email'),
  'users User.displayName': userField('displayName'),
  'users User.tenant': userField('tenant', 'tenant { id }'),
  'users User.createdAt': userField('createdAt'),
  'records Query.record': (s) => both(q(`{ record(id: "${othersPublicRecord(s)}") { id } }`, ['record'])),
  'records Query.records': both(q('{ records(first: 2) { nodes { id } } }', ['records'])),
  'records Mutation.createRecord': m('mutation { createRecord(input: { title: "probe", body: "probe", classification: PUBLIC }) { id } }', [
    'createRecord',
  ]),
  'records Mutation.updateRecord': (s) => ({
    own: q(`mutation { updateRecord(id: "${ownRecord(s)}", input: { title: "probed" }) { id } }`, ['updateRecord'], { token: 'minted' }),
    other: q(`mutation { updateRecord(id: "${othersPublicRecord(s)}", input: { title: "probed" }) { id } }`, ['updateRecord'], {
      token: 'minted',
    }),
  }),
  'records Mutation.archiveRecord': (s) => ({
    own: q(`mutation { archiveRecord(id: "${RANDOM_ID}") { id } }`, ['archiveRecord'], { token: 'minted' }),
    other: q(`mutation { archiveRecord(id: "${othersPublicRecord(s)}") { id } }`, ['archiveRecord'], { token: 'minted' }),
  }),
  'records PageInfo.hasNextPage': page('records', 'hasNextPage'),
  'records PageInfo.endCursor': page('records', 'endCursor'),
  'records RecordConnection.nodes': page('records', 'nodes'),
  'records RecordConnection.pageInfo': page('records', 'pageInfo'),
  'records User.id': both(q('{ me { records(first: 1) { nodes { owner { id } } } } }', ['me', 'records', 'nodes', '*', 'owner', 'id'])),
  'records User.records': (s) =>
    both(q(`{ user(id: "${otherUser(s).id}") { id records(first: 1) { nodes { id } } } }`, ['user', 'records'])),
  'complaints Query.complaint': (s) => both(q(`{ complaint(id: "${ownComplaint(s)}") { id } }`, ['complaint'])),
  'complaints Query.complaints': both(q('{ complaints(first: 2) { nodes { id } } }', ['complaints'])),
  'complaints Mutation.fileComplaint': m('mutation { fileComplaint(input: { subject: "probe", description: "probe" }) { id } }', [
    'fileComplaint',
  ]),
  'complaints Mutation.assignComplaint': m(`mutation { assignComplaint(id: "${RANDOM_ID}", assigneeId: "${RANDOM_ID}") { id } }`, [
    'assignComplaint',
  ]),
  'complaints Mutation.updateComplaintStatus': m(`mutation { updateComplaintStatus(id: "${RANDOM_ID}", status: CLOSED) { id } }`, [
    'updateComplaintStatus',
  ]),
  'complaints Mutation.addComplaintComment': (s) => ({
    own: q(`mutation { addComplaintComment(id: "${ownComplaint(s)}", body: "probe") { id } }`, ['addComplaintComment'], {
      token: 'minted',
    }),
    other: q(`mutation { addComplaintComment(id: "${othersComplaint(s)}", body: "probe") { id } }`, ['addComplaintComment'], {
      token: 'minted',
      notFoundDenies: true,
    }),
  }),
  'complaints ComplaintConnection.nodes': page('complaints', 'nodes'),
  'complaints ComplaintConnection.pageInfo': page('complaints', 'pageInfo'),
  'complaints PageInfo.hasNextPage': page('complaints', 'hasNextPage'),
  'complaints PageInfo.endCursor': page('complaints', 'endCursor'),
  'complaints Record.id': (s) =>
    both(q(`{ complaint(id: "${demoId(s.tenant, 2, 1)}") { relatedRecord { id } } }`, ['complaint', 'relatedRecord', 'id'])),
  'complaints User.id': (s) => both(q(`{ complaint(id: "${ownComplaint(s)}") { filedBy { id } } }`, ['complaint', 'filedBy', 'id'])),
  'complaints User.complaints': (s) => ({
    own: q('{ me { id complaints(first: 1) { nodes { id } } } }', ['me', 'complaints']),
    other: q(`{ user(id: "${otherUser(s).id}") { id complaints(first: 1) { nodes { id } } } }`, ['user', 'complaints']),
  }),
};
for (const field of [
  'userId',
  'tenantId',
  'roles',
  'permissions',
  'sessionId',
  'sessionExpiresAt',
  'issuer',
  'authenticationMethods',
  'user',
]) {
  PROBES[`auth Viewer.${field}`] = viewerField(field);
}
for (const field of ['id', 'event', 'outcome', 'reason', 'user', 'sessionId', 'clientAddress', 'occurredAt'])
  PROBES[`auth AuditEvent.${field}`] = auditField(field);
for (const field of ['accessToken', 'refreshToken', 'expiresIn', 'tokenType', 'sessionExpiresAt']) {
  PROBES[`auth AuthSession.${field}`] = (s) => both(q(LOGIN(s, `... on AuthSession { ${field} }`), ['login', field]));
}
for (const field of ['title', 'body', 'classification', 'owner', 'createdAt', 'updatedAt', 'archivedAt'])
  PROBES[`records Record.${field}`] = recordField(field);
for (const field of [
  'subject',
  'description',
  'status',
  'filedBy',
  'assignee',
  'relatedRecord',
  'internalNotes',
  'comments',
  'createdAt',
]) {
  PROBES[`complaints Complaint.${field}`] = complaintField(field);
}
PROBES['records Record.id'] = (s) => both(q(`{ record(id: "${othersPublicRecord(s)}") { id } }`, ['record', 'id']));
PROBES['complaints Subscription.complaintUpdated'] = both(
  q('subscription { complaintUpdated { id } }', ['complaintUpdated'], { overWebSocket: true }),
);
PROBES['complaints Complaint.id'] = (s) => both(q(`{ complaint(id: "${ownComplaint(s)}") { id } }`, ['complaint', 'id']));
for (const field of ['id', 'author', 'body', 'createdAt']) PROBES[`complaints ComplaintComment.${field}`] = commentField(field);
// Ending sessions: run last, with their own tokens (they end the caller's sessions, or the tenant's).
const once = (query: string, path: string[]): ProbeSet => ({ own: q(query, path, { token: 'minted' }) });
const FINAL_PROBES: Record<string, ProbeSet> = {
  'auth Mutation.logout': once('mutation { logout }', ['logout']),
  'auth Mutation.logoutEverywhere': once('mutation { logoutEverywhere }', ['logoutEverywhere']),
  'auth Mutation.revokeTenantSessions': once('mutation { revokeTenantSessions }', ['revokeTenantSessions']),
};

const DENIALS = new Set(['FORBIDDEN', 'STEP_UP_REQUIRED']);
const matches = (pattern: string[], path: ReadonlyArray<string | number>) =>
  path.every((step, i) => i < pattern.length && (pattern[i] === '*' || pattern[i] === String(step)));

function valueAt(data: unknown, path: string[]): unknown {
  let values: unknown[] = [data];
  for (const step of path) {
    values = values.flatMap((value) => {
      if (value === null || value === undefined) return [];
      if (step === '*') return Array.isArray(value) ? value : [];
      return [(value as Record<string, unknown>)[step]];
    });
  }
  return values.find((value) => value !== undefined && value !== null);
}

/**
 * Where a refusal stands: at the field itself, above it (the field was not reached), or nowhere. An anonymous caller's
 * field that is simply not there (its parent answered null) counts as not reached.
 */
function refusalOf(result: GraphQLResult, probe: Probe, who: Who): 'field' | 'above' | 'none' {
  if (result.status === 401) return 'above';
  let found: 'field' | 'above' | 'none' = 'none';
  for (const error of result.body.errors ?? []) {
    const code = error.extensions?.code;
    const isDenial =
      DENIALS.has(code) ||
      (code === 'UNAUTHENTICATED' && error.extensions?.reason === 'login_required') ||
      (probe.notFoundDenies && code === 'NOT_FOUND');
    if (!isDenial || !error.path || !matches(probe.path, error.path)) continue;
    if (error.path.length === probe.path.length) return 'field';
    found = 'above';
  }
  if (found === 'none' && who === 'ANONYMOUS' && valueAt(result.body.data, probe.path.slice(0, -1)) === undefined && probe.path.length > 1)
    return 'above';
  return found;
}

/** What the matrix cell says for the own object and for someone else's. */
function expected(cell: string): { own: 'allowed' | 'denied'; other: 'allowed' | 'denied' } {
  const grant = cell.replace(/ \+ 2FA$/, '');
  if (grant === '—') return { own: 'denied', other: 'denied' };
  if (grant === 'own') return { own: 'allowed', other: 'denied' };
  // ✓, or a row-scoped grant such as "own + PUBLIC": the own object and someone else's PUBLIC one are readable.
  return { own: 'allowed', other: 'allowed' };
}

let stack: Stack;
const sessionTokens = new Map<string, string>();
const mintedToken = (s: Subject) =>
  mintAccessToken(stack.signingKey, {
    issuer: stack.issuer,
    audience: stack.audience,
    userId: s.tenant.users[ROLE_KEY[s.role as Role]].id,
    tenantId: s.tenant.id,
    roles: [s.role],
    amr: ['pwd', 'otp'],
  });

beforeAll(async () => {
  stack = await startStack({ authEnv: { LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: '10000', LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '100000' } });
  for (const tenant of [acme, globex]) {
    for (const role of ROLES)
      sessionTokens.set(`${tenant.slug}:${role}`, await stack.login(`${ROLE_KEY[role]}@${tenant.slug}.example`, tenant.slug));
  }
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const { rows, missing, columns } = buildPermissionMatrix();
// The matrix's columns: anonymous, then the roles of roles.yaml (the demo tenants have one user of each).
const COLUMNS: Who[] = columns.map((column) => (column === 'anonymous' ? 'ANONYMOUS' : (column as Role)));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A subscription probe, answered in a query's shape: its refusal (at the field's path), or data when it stayed open. */
async function subscribeProbe(probe: Probe, token: string | undefined): Promise<GraphQLResult> {
  const connection = connectWs(stack.gatewayUrl, token === undefined ? {} : { authorization: `Bearer ${token}` });
  const live = connection.subscribe(probe.query);
  const closed = await Promise.race([connection.closed, live.ended.then(() => undefined), sleep(300).then(() => undefined)]);
  await connection.dispose();
  const refusal = closed
    ? { message: 'refused', path: probe.path, extensions: { code: 'UNAUTHENTICATED', reason: closed.reason } }
    : Array.isArray(live.error)
      ? { ...live.error[0], path: probe.path }
      : undefined;
  return { status: 200, headers: new Headers(), body: refusal ? { errors: [refusal] } : { data: { [probe.path[0]]: {} } } };
}

async function runProbes(probes: Record<string, ProbeSet | ((s: Subject) => ProbeSet)>) {
  const mismatches: string[] = [];
  const unreached: string[] = [];
  let checked = 0;
  for (const row of rows) {
    const key = `${row.subgraph} ${row.field}`;
    const probeOf = probes[key];
    if (!probeOf) continue;
    let reachedWhereAllowed = false;
    let anyAllowed = false;
    for (const tenant of [acme, globex]) {
      for (const [column, who] of COLUMNS.entries()) {
        const subject = { role: who, tenant };
        const set = typeof probeOf === 'function' ? probeOf(subject) : probeOf;
        const want = expected(row.cells[column]);
        for (const kind of ['own', 'other'] as const) {
          const probe = set[kind];
          if (!probe) continue;
          const token =
            who === 'ANONYMOUS'
              ? undefined
              : probe.token === 'minted'
                ? await mintedToken(subject)
                : sessionTokens.get(`${tenant.slug}:${who}`);
          const result = probe.overWebSocket ? await subscribeProbe(probe, token) : await stack.gql(probe.query, { token });
          const refusal = refusalOf(result, probe, who);
          checked += 1;
          const where = `${key} as ${who} of ${tenant.slug} (${kind})`;
          if (want[kind] === 'allowed') {
            anyAllowed = true;
            // A refusal above the field is its parent's rule: this probe could not reach the field.
            if (refusal === 'field') mismatches.push(`${where}: expected allowed, refused ${JSON.stringify(result.body.errors)}`);
            if (refusal === 'none') reachedWhereAllowed = true;
          } else if (refusal === 'none') {
            mismatches.push(`${where}: expected refused, got ${JSON.stringify(result.body).slice(0, 300)}`);
          }
          // Siblings stay intact: a refusal nulls the field, never its neighbours.
          if (refusal === 'field' && result.status === 200 && probe.path.length > 1 && probe.query.includes(' id ')) {
            const parent = valueAt(result.body.data, probe.path.slice(0, -1)) as Record<string, unknown> | undefined;
            if (!parent || parent.id === undefined) mismatches.push(`${where}: sibling id lost`);
          }
        }
      }
    }
    if (anyAllowed && !reachedWhereAllowed) unreached.push(key);
  }
  return { mismatches, unreached, checked };
}

describe('the permission matrix, through the gateway', () => {
  it('has a probe for every field', () => {
    expect(missing).toEqual([]);
    const unprobed = rows.map((row) => `${row.subgraph} ${row.field}`).filter((key) => !PROBES[key] && !FINAL_PROBES[key]);
    expect(unprobed).toEqual([]);
  });

  it('allows exactly what the matrix allows, for every role of both tenants and anonymous callers', async () => {
    const { mismatches, unreached, checked } = await runProbes(PROBES);
    expect(mismatches).toEqual([]);
    expect(unreached).toEqual([]); // every field some role may use was actually reached and answered
    expect(checked).toBeGreaterThan(1000);
  }, 300_000);

  it('and so do the operations that end sessions', async () => {
    const { mismatches } = await runProbes(FINAL_PROBES);
    expect(mismatches).toEqual([]);
  }, 120_000);
});
