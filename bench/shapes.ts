/**
 * The query shapes the benchmark measures (BENCH_QUERIES picks some by key): what each sends, as whom, in which
 * scenarios, and what its answer must be (checked once per scenario before measuring).
 */
import type { BenchRole } from './servers/fixedIdentity';

export interface QueryShape {
  name: string;
  query: string;
  /**
   * Whose request it is: acme's member or manager — the token sent to (d), (e) and (g), the fixed identity the other
   * gateways sign (see bench/servers/fixedIdentity.ts).
   */
  role: BenchRole;
  /** The scenarios (letters) it runs in. */
  scenarios: string;
  /** What is wrong with an answer's body, or undefined when it is as expected. */
  problem(body: any): string | undefined;
}

const errorsOf = (body: any) => (body?.errors ?? []) as Array<{ path?: unknown[]; extensions?: { code?: string } }>;
const unexpectedErrors = (body: any) =>
  errorsOf(body).length ? `errors: ${JSON.stringify(body.errors).slice(0, 300)}` : body?.data ? undefined : 'no data';

/** A page of complaints as a list view shows it: each with its filer and three of the filer's records. */
function listPage(first: number): QueryShape {
  return {
    name: `list page, ${first}`,
    query: `{ complaints(first: ${first}) { nodes { id subject filedBy { displayName records(first: 3) { nodes { title } } } } } }`,
    // Staff see every complaint of the tenant, and a manager every record (CONFIDENTIAL included); a member would see
    // their own complaints only.
    role: 'MANAGER',
    scenarios: 'bcdfgh',
    problem(body) {
      const nodes = body?.data?.complaints?.nodes;
      if (unexpectedErrors(body)) return unexpectedErrors(body);
      if (!Array.isArray(nodes) || nodes.length !== first) return `expected ${first} complaints, got ${nodes?.length}`;
      const incomplete = nodes.find((node: any) => typeof node.filedBy?.displayName !== 'string' || !node.filedBy.records?.nodes?.length);
      if (incomplete) return `a complaint without its filer or the filer's records: ${JSON.stringify(incomplete)}`;
      return undefined;
    },
  };
}

export const QUERIES = {
  one: {
    name: 'one subgraph',
    query: '{ me { displayName } }',
    role: 'MEMBER',
    scenarios: 'abcdefgh',
    problem: (body) => unexpectedErrors(body) ?? (typeof body.data.me?.displayName === 'string' ? undefined : 'no displayName'),
  },
  hop: {
    name: '_entities hop',
    query: '{ me { displayName records(first: 5) { nodes { title } } } }',
    role: 'MEMBER',
    scenarios: 'bcdefgh',
    problem: (body) => unexpectedErrors(body) ?? (body.data.me?.records?.nodes?.length ? undefined : 'no records'),
  },
  list: listPage(20),
  list5: listPage(5),
  mutation: {
    name: 'mutation',
    // Each request creates a record, the manager's: no page above lists the manager's records (the hop lists the
    // member's, the list pages the filers'), so they read the same rows however many records this writes.
    query: 'mutation { createRecord(input: { title: "Bench record", body: "Written by the benchmark." }) { id title } }',
    role: 'MANAGER',
    scenarios: 'bcdfgh',
    problem: (body) => unexpectedErrors(body) ?? (body.data.createRecord?.id ? undefined : 'no record created'),
  },
  refused: {
    name: 'refused field',
    // `users` needs user:list (AGENT and up): refused for a member, with `me` answered beside it. Only the gateways
    // that check tokens and scopes refuse it themselves: elsewhere a subgraph refuses it, which is not the same work.
    query: '{ me { displayName } users(first: 5) { nodes { displayName } } }',
    role: 'MEMBER',
    scenarios: 'cd',
    problem(body) {
      const errors = errorsOf(body);
      const refused = errors.length === 1 && errors[0].path?.join('.') === 'users';
      if (!refused || !['FORBIDDEN', 'UNAUTHENTICATED'].includes(errors[0].extensions?.code ?? ''))
        return `expected one FORBIDDEN or UNAUTHENTICATED error at users, got ${JSON.stringify(body?.errors)}`;
      if (typeof body.data?.me?.displayName !== 'string' || body.data.users !== null)
        return `unexpected data: ${JSON.stringify(body?.data)}`;
      return undefined;
    },
  },
} satisfies Record<string, QueryShape>;
export type QueryKey = keyof typeof QUERIES;
