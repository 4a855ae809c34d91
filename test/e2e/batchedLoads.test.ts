import { randomUUID } from 'node:crypto';
import { createContextSigner } from '../../auth';
import { scopesOf } from '../helpers/scopes';
import { postToSubgraph, startStack, type Stack } from '../helpers/stack';
import { acme, globex } from '../helpers/tokens';

/**
 * No N+1: a list page costs each subgraph the same number of SQL statements whatever its size. The entities of one
 * `_entities` call and the lists under each parent are loaded in one statement per kind, in one transaction of the
 * caller's tenant (row-level security intact).
 */
let stack: Stack;
let manager: string;

const LIST_PAGE = /* GraphQL */ `
  query ListPage($first: Int!) {
    complaints(first: $first) {
      nodes {
        subject
        filedBy {
          displayName
          records(first: 3) {
            nodes {
              title
              owner {
                displayName
              }
            }
          }
        }
      }
    }
  }
`;

const PEOPLE_PAGE = /* GraphQL */ `
  query PeoplePage($first: Int!) {
    users(first: $first) {
      nodes {
        displayName
        complaints(first: 3) {
          nodes {
            subject
            comments {
              body
            }
            relatedRecord {
              title
            }
          }
        }
      }
    }
  }
`;

beforeAll(async () => {
  stack = await startStack();
  manager = await stack.login('manager@acme.example', 'acme');
  const admin = await stack.login('admin@acme.example', 'acme');
  // Besides the demo complaints (the member's and the agent's), three each by the manager (about a record) and the
  // admin: four filers.
  const record = (await stack.gql('{ records(first: 1) { nodes { id } } }', { token: manager })).body.data.records.nodes[0].id;
  for (const [token, related] of [manager, manager, manager, admin, admin, admin].map((token) => [token, token === manager])) {
    const filed = await stack.gql('mutation ($input: FileComplaintInput!) { fileComplaint(input: $input) { id } }', {
      token: token as string,
      variables: { input: { subject: 'Batch', description: 'd', ...(related ? { relatedRecordId: record } : {}) } },
    });
    expect(filed.body.errors).toBeUndefined();
  }
}, 90_000);

afterAll(() => stack?.close());

/** Statements each subgraph sent to Postgres so far (its gatehouse_sql_statements_total). */
async function statements(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [name, subgraph] of Object.entries(stack.subgraphs)) {
    const text = await (await fetch(subgraph.metricsUrl)).text();
    const line = text.split('\n').find((entry) => entry.startsWith('gatehouse_sql_statements_total{'));
    counts[name] = line ? Number(line.split(' ').pop()) : 0;
  }
  return counts;
}

async function statementsForPage(first: number, query = LIST_PAGE) {
  const before = await statements();
  const page = await stack.gql(query, { token: manager, variables: { first } });
  expect(page.body.errors).toBeUndefined();
  const after = await statements();
  const nodes = (page.body.data.complaints ?? page.body.data.users).nodes as Array<{
    filedBy: { displayName: string; records: { nodes: unknown[] } };
  }>;
  const perSubgraph = Object.fromEntries(Object.keys(after).map((name) => [name, after[name] - before[name]]));
  return { nodes, perSubgraph };
}

it('loads a list page with as many statements per subgraph for 9 rows from 4 filers as for 2 rows', async () => {
  const small = await statementsForPage(2);
  const large = await statementsForPage(9);
  expect(small.nodes).toHaveLength(2);
  expect(large.nodes).toHaveLength(9);
  expect(new Set(large.nodes.map((node) => node.filedBy.displayName)).size).toBe(4);
  // Each filer's own records came back under that filer (the admin has none), visibility still applied.
  for (const { filedBy } of large.nodes) {
    expect(filedBy.records.nodes.length).toBe(filedBy.displayName === 'Acme Admin' ? 0 : 3);
    for (const record of filedBy.records.nodes as Array<{ owner: { displayName: string } }>)
      expect(record.owner.displayName).toBe(filedBy.displayName);
  }
  expect(large.perSubgraph.users).toBeGreaterThan(0);
  expect(large.perSubgraph).toEqual(small.perSubgraph);
});

it("loads each user's complaints, their comments and related records in one statement per kind, whatever the page size", async () => {
  // The first two users are the admin and the manager, whose complaints have no comments; the manager's name a record.
  const small = await statementsForPage(2, PEOPLE_PAGE);
  const large = await statementsForPage(4, PEOPLE_PAGE);
  const people = large.nodes as unknown as Array<{ complaints: { nodes: Array<{ relatedRecord: unknown; comments: unknown[] }> } }>;
  expect(people).toHaveLength(4);
  expect(people.filter((person) => person.complaints.nodes.length > 0).length).toBeGreaterThanOrEqual(3);
  expect(people.some((person) => person.complaints.nodes.some((complaint) => complaint.relatedRecord))).toBe(true);
  expect(people.some((person) => person.complaints.nodes.some((complaint) => complaint.comments.length > 0))).toBe(true);
  expect(large.perSubgraph.complaints).toBeGreaterThan(0);
  expect(large.perSubgraph).toEqual(small.perSubgraph);
});

it('answers each entity of a batch under its own representation: another tenant, a bad id and a repeat as they are', async () => {
  const signer = createContextSigner({ masterSecret: stack.contextSecret });
  const context = {
    user: { id: acme.users.member.id, tenantId: acme.id, roles: ['MEMBER'], scopes: scopesOf(['MEMBER']), sessionId: randomUUID() },
    requestId: 'direct',
    clientAddress: '',
  };
  const ids = [acme.users.agent.id, globex.users.agent.id, 'not-a-uuid', acme.users.member.id, acme.users.agent.id, randomUUID()];
  const before = await statements();
  const result = await postToSubgraph(
    stack.subgraphs.users.url,
    'query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { id displayName } } }',
    (body) => signer.sign(context, 'users', body),
    { variables: { r: ids.map((id) => ({ __typename: 'User', id })) } },
  );
  const after = await statements();
  expect(result.body.errors).toBeUndefined();
  expect(result.body.data!._entities).toEqual([
    { id: acme.users.agent.id, displayName: 'Acme Agent' },
    null,
    null,
    { id: acme.users.member.id, displayName: 'Acme Member' },
    { id: acme.users.agent.id, displayName: 'Acme Agent' },
    null,
  ]);
  // One transaction, one statement: BEGIN, the batch, COMMIT.
  expect(after.users - before.users).toBe(3);
});
