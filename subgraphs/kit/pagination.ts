import { badUserInput, isUuid } from '../../auth';

/** The hard upper bound on any page. */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/** True for a canonical UUID (auth's check). Ids that are not cannot name a row: callers answer them like a missing id. */
export { isUuid };

/**
 * True for an instant as Date#toISOString writes it, only a real one (JavaScript rolls 02-30 over to 03-01), and only
 * one Postgres can hold: years 0001 to 9999. toISOString writes the years JavaScript has beyond those with a sign
 * (`+275760-09-13T…`, `-000001-…`), and year 0000 does not exist in Postgres: each failed there, as a masked error.
 */
function isCanonicalInstant(text: string): boolean {
  const time = Date.parse(text);
  return !Number.isNaN(time) && new Date(time).toISOString() === text && /^(?!0000)\d{4}-/.test(text);
}

export interface PageRequest {
  limit: number;
  /** Keyset position: rows strictly after (createdAt, id). */
  after: { createdAt: string; id: string } | null;
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

/** Reads `first` / `after` arguments; BAD_USER_INPUT for a page over MAX_PAGE_SIZE or a cursor we did not make. */
export function parsePage(args: { first?: number | null; after?: string | null }): PageRequest {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badUserInput(`"first" must be between 1 and ${MAX_PAGE_SIZE}`, 'page_size_out_of_range');
  }
  if (!args.after) return { limit: first, after: null };
  try {
    const [createdAt, id, extra] = JSON.parse(Buffer.from(args.after, 'base64url').toString('utf8'));
    // Exactly what toPage writes: an impossible date (February 30th) or another format would reach Postgres.
    if (typeof createdAt !== 'string' || !isUuid(id) || extra !== undefined || !isCanonicalInstant(createdAt)) throw new Error();
    return { limit: first, after: { createdAt, id } };
  } catch {
    throw badUserInput('"after" is not a valid cursor', 'invalid_cursor');
  }
}

/**
 * Turns the rows of a query that fetched `limit + 1` rows ordered by (created_at, id) into a page.
 */
export function toPage<T extends { id: string; created_at: Date | string }>(
  rows: T[],
  page: PageRequest,
): { nodes: T[]; pageInfo: PageInfo } {
  const hasNextPage = rows.length > page.limit;
  const nodes = hasNextPage ? rows.slice(0, page.limit) : rows;
  const last = nodes[nodes.length - 1];
  const endCursor = last ? Buffer.from(JSON.stringify([new Date(last.created_at).toISOString(), last.id])).toString('base64url') : null;
  return { nodes, pageInfo: { hasNextPage, endCursor } };
}

/**
 * The SQL condition and parameters of a keyset page; `firstParam` is the index of the first placeholder and
 * `timeColumn` the column the cursor's time refers to (default created_at).
 */
export function keysetCondition(
  page: PageRequest,
  firstParam: number,
  alias = '',
  timeColumn = 'created_at',
): { sql: string; params: unknown[] } {
  const prefix = alias ? `${alias}.` : '';
  if (!page.after) return { sql: 'TRUE', params: [] };
  return {
    sql: `(${prefix}${timeColumn}, ${prefix}id) > ($${firstParam}::timestamptz, $${firstParam + 1}::uuid)`,
    params: [page.after.createdAt, page.after.id],
  };
}
