import { generateKeyPair } from 'jose';
import { scopesOf } from '../helpers/scopes';
import { createContextSigner, CONTEXT_HEADER } from '../../auth';
import { postToSubgraph, startStack, SUBGRAPH_NAMES, type Stack } from '../helpers/stack';
import { acme, adminClaims, decodePayload, mintAccessToken, signRaw, unsignedToken } from '../helpers/tokens';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(() => stack.resetCalls());

const CROSS_SUBGRAPH_QUERY = /* GraphQL */ `
  query ComplaintTrail($id: ID!) {
    complaint(id: $id) {
      subject
      filedBy {
        displayName
        records(first: 10) {
          nodes {
            title
            owner {
              displayName
              email
            }
          }
        }
      }
    }
  }
`;

describe('the request path through the gateway', () => {
  it('logs in and runs a query crossing three subgraphs through _entities', async () => {
    const token = await stack.login('member@acme.example', 'acme');
    stack.resetCalls();
    const complaintId = '00000001-0002-4000-8000-000000000001';
    const result = await stack.gql(CROSS_SUBGRAPH_QUERY, { token, variables: { id: complaintId } });

    expect(result.status).toBe(200);
    expect(result.body.errors).toBeUndefined();
    const complaint = result.body.data.complaint;
    expect(complaint.subject).toBe('Record shows the wrong date');
    expect(complaint.filedBy.displayName).toBe('Acme Member');
    expect(complaint.filedBy.records.nodes.length).toBeGreaterThan(0);
    for (const record of complaint.filedBy.records.nodes) {
      expect(record.owner).toEqual({ displayName: 'Acme Member', email: 'member@acme.example' });
    }
    // complaints → users (filer) → records (their records) → users (owners)
    expect(stack.subgraphs.complaints.calls).toHaveLength(1);
    expect(stack.subgraphs.records.calls).toHaveLength(1);
    expect(stack.subgraphs.users.calls.length).toBeGreaterThanOrEqual(1);
    expect(stack.subgraphs.auth.calls).toHaveLength(0);
  });

  it('answers an unknown user, a wrong password and an unknown tenant identically, and opens no session', async () => {
    const attempt = (email: string, password: string, tenant: string) =>
      stack.gql('mutation($input: LoginInput!) { login(input: $input) { __typename } }', {
        variables: { input: { email, password, tenant } },
      });
    const sessionsBefore = (await stack.db.pool.query('SELECT count(*)::int AS n FROM auth.sessions')).rows[0].n;
    const answers = await Promise.all([
      attempt('nobody@acme.example', 'gatehouse-demo', 'acme'),
      attempt('member@acme.example', 'wrong-password', 'acme'),
      attempt('member@acme.example', 'gatehouse-demo', 'globex'),
      attempt('member@acme.example', 'gatehouse-demo', 'no-such-tenant'),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(answers[0].status);
      expect(answer.body).toEqual(answers[0].body);
    }
    expect(answers[0].body.errors?.[0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'invalid_credentials' });
    expect((await stack.db.pool.query('SELECT count(*)::int AS n FROM auth.sessions')).rows[0].n).toBe(sessionsBefore);
  });

  it('stores passwords only as argon2id hashes', async () => {
    const { rows } = await stack.db.pool.query('SELECT password_hash FROM auth.credentials');
    expect(rows.length).toBe(8);
    for (const row of rows) expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$/);
  });

  it('forwards a signed context made for each subgraph, with the caller, tenant, roles and request id', async () => {
    const token = await stack.login('agent@acme.example', 'acme');
    stack.resetCalls();
    const result = await stack.gql('{ viewer { userId roles } me { displayName } }', { token });
    expect(result.body.errors).toBeUndefined();

    const requestId = result.headers.get('x-request-id');
    for (const name of ['auth', 'users'] as const) {
      const header = stack.subgraphs[name].calls[0].headers[CONTEXT_HEADER] as string;
      const claims = decodePayload(header);
      expect(claims).toMatchObject({ aud: name, sub: acme.users.agent.id, tid: acme.id, roles: ['AGENT'], rid: requestId });
      expect(claims.exp - claims.iat).toBeLessThanOrEqual(60);
      expect(JSON.parse(Buffer.from(header.split('.')[0], 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'gatehouse-ctx+jwt' });
    }
  });

  it('lets an anonymous request through with a signed anonymous context', async () => {
    const result = await stack.gql('{ viewer { userId } }');
    expect(result.status).toBe(200);
    expect(result.body.data).toEqual({ viewer: null });
    const claims = decodePayload(stack.subgraphs.auth.calls[0].headers[CONTEXT_HEADER] as string);
    expect(claims.sub).toBeUndefined();
    expect(claims.aud).toBe('auth');
  });

  it('answers UNAUTHENTICATED (not FORBIDDEN) to an anonymous caller of a protected field', async () => {
    const result = await stack.gql('{ records { nodes { id } } }');
    expect(result.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(result.body.errors?.[0].path).toEqual(['records']);
    expect(result.body.data).toEqual({ records: null });
  });

  describe('refuses bad tokens with 401 before any subgraph call', () => {
    const claims = () => adminClaims(stack);

    const cases: Array<[string, () => Promise<string>, string]> = [
      [
        'a token forged with another key under the real kid',
        async () =>
          signRaw(
            { alg: stack.signingKey.alg, kid: stack.signingKey.kid, typ: 'at+jwt' },
            claims(),
            (await generateKeyPair(stack.signingKey.alg)).privateKey,
          ),
        'token_signature_invalid',
      ],
      [
        // The key a kid names decides the algorithm: an ES256 token under the PS256 key's kid is never checked.
        'a token under the real kid with another algorithm',
        async () => signRaw({ alg: 'ES256', kid: stack.signingKey.kid, typ: 'at+jwt' }, claims()),
        'token_algorithm_refused',
      ],
      [
        'an unsigned token (alg none)',
        async () => unsignedToken({ kid: stack.signingKey.kid, typ: 'at+jwt' }, claims()),
        'token_malformed',
      ],
      [
        'an expired token',
        async () =>
          mintAccessToken(stack.signingKey, {
            issuer: stack.issuer,
            audience: stack.audience,
            userId: acme.users.admin.id,
            tenantId: acme.id,
            roles: ['ADMIN'],
            now: Date.now() - 20 * 60_000,
          }),
        'token_expired',
      ],
      ['garbage', async () => 'not.a.jwt', 'token_malformed'],
    ];

    it.each(cases)('%s', async (_name, makeToken, reason) => {
      const result = await stack.gql('{ me { displayName } records { nodes { id } } }', { token: await makeToken() });
      expect(result.status).toBe(401);
      expect(result.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(result.body.errors?.[0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason });
      expect(stack.totalCalls()).toBe(0);
    });
  });

  it('never lets a client-sent context header reach a subgraph, whatever its case', async () => {
    const token = await stack.login('member@acme.example', 'acme');
    stack.resetCalls();
    // A context claiming ADMIN, correctly signed with the real secret: still dropped at the gateway.
    const forged = createContextSigner({ masterSecret: stack.contextSecret }).sign(
      {
        user: { id: acme.users.admin.id, tenantId: acme.id, roles: ['ADMIN'], scopes: scopesOf(['ADMIN']), sessionId: 'x' },
        requestId: 'r',
        clientAddress: '1.2.3.4',
      },
      'users',
      '{}',
    );
    const headers = { [CONTEXT_HEADER]: forged, 'GATEHOUSE-CONTEXT': forged, 'x-gatehouse-context': forged };
    const result = await stack.gql('{ me { displayName } }', { token, headers });
    expect(result.body.data.me.displayName).toBe('Acme Member');
    const adminOnly = await stack.gql('{ users { nodes { email } } }', { token, headers });
    expect(adminOnly.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(stack.subgraphs.users.calls).toHaveLength(1); // the refused field never left the gateway
    const received = stack.subgraphs.users.calls[0].headers;
    expect(received[CONTEXT_HEADER]).not.toBe(forged);
    expect(received['x-gatehouse-context']).toBeUndefined();
    expect(decodePayload(received[CONTEXT_HEADER] as string).roles).toEqual(['MEMBER']);
  });

  it('answers FORBIDDEN at the field path, with integer list indices, while sibling fields resolve', async () => {
    const token = await stack.login('member@acme.example', 'acme');
    const result = await stack.gql('{ complaints { nodes { subject internalNotes } } }', { token });
    expect(result.body.data.complaints.nodes.length).toBeGreaterThan(0);
    for (const node of result.body.data.complaints.nodes) expect(node).toEqual({ subject: expect.any(String), internalNotes: null });
    expect(result.body.errors?.map((error) => error.path)).toEqual(
      result.body.data.complaints.nodes.map((_: unknown, i: number) => ['complaints', 'nodes', i, 'internalNotes']),
    );
    expect(result.body.errors?.every((error) => error.extensions?.code === 'FORBIDDEN')).toBe(true);
  });

  it('masks internal failures and never returns a stack trace', async () => {
    const token = await stack.login('member@acme.example', 'acme');
    const result = await stack.gql('{ records(first: 1000) { nodes { id } } }', { token });
    expect(result.body.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'page_size_out_of_range' });
    expect(JSON.stringify(result.body)).not.toMatch(/stacktrace|at \w+ \(|127\.0\.0\.1|localhost/);
  });
});

describe('each subgraph called directly', () => {
  const signerFor = (secret: string, now?: () => number) => createContextSigner({ masterSecret: secret, now });
  const anonymous = { user: null, requestId: 'test', clientAddress: '127.0.0.1' };
  const QUERY = '{ _service { sdl } }';

  it.each(SUBGRAPH_NAMES)(
    '%s refuses a missing, forged, altered, expired, misaddressed or replayed context and answers a valid one',
    async (name) => {
      const url = stack.subgraphs[name].url;
      const sign = (body: string, secret = stack.contextSecret, audience: string = name, now?: () => number) =>
        signerFor(secret, now).sign(anonymous, audience, body);
      const alter = (header: string) => {
        const [head, , signature] = header.split('.');
        const claims = { ...decodePayload(header), sub: acme.users.admin.id, tid: acme.id, sid: 's', roles: ['ADMIN'] };
        return `${head}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
      };
      const attempts: Record<string, Parameters<typeof postToSubgraph>> = {
        missing: [url, QUERY, () => undefined],
        forged: [url, QUERY, (body) => sign(body, Buffer.alloc(32, 7).toString('base64url'))],
        altered: [url, QUERY, (body) => alter(sign(body))],
        expired: [url, QUERY, (body) => sign(body, stack.contextSecret, name, () => Date.now() - 5 * 60_000)],
        otherSubgraph: [url, QUERY, (body) => sign(body, stack.contextSecret, name === 'users' ? 'records' : 'users')],
        unsigned: [url, QUERY, (body) => sign(body).replace(/[^.]+$/, '')],
        // A captured header replayed with another query: the signature covers the body it was made for.
        replayedWithAnotherBody: [url, QUERY, (body) => sign(body), { sendBody: () => JSON.stringify({ query: '{ __typename }' }) }],
      };
      for (const [attempt, args] of Object.entries(attempts)) {
        const result = await postToSubgraph(...args);
        expect({ attempt, status: result.status, code: result.body.errors?.[0].extensions?.code, data: result.body.data ?? null }).toEqual({
          attempt,
          status: 401,
          code: 'UNAUTHENTICATED',
          data: null,
        });
      }
      const ok = await postToSubgraph(url, QUERY, (body) => sign(body));
      expect(ok.status).toBe(200);
      expect(ok.body.data._service.sdl).toContain('type Query');
    },
  );

  it('refuses _entities without a valid context', async () => {
    const result = await postToSubgraph(
      stack.subgraphs.users.url,
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { email } } }',
      () => undefined,
      {
        variables: { r: [{ __typename: 'User', id: acme.users.admin.id }] },
      },
    );
    expect(result.status).toBe(401);
    expect(result.body.data).toBeNull();
  });

  it('answers only POST: a GET carries no body for the signature to bind', async () => {
    const response = await fetch(`${stack.subgraphs.users.url}?query=${encodeURIComponent(QUERY)}`);
    expect(response.status).toBe(405);
  });
});
