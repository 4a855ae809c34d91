import { GraphQLScalarType, Kind } from 'graphql';
import { readFileSync } from 'node:fs';
import { parse, type DocumentNode } from 'graphql';
import { forbidden, hasScope, notFound, unauthenticated, type ContextUser } from '../../auth';
import type { SubgraphContext } from './createSubgraphServer';

/** The caller, or UNAUTHENTICATED. For __resolveReference and resolvers that graphql-shield does not cover. */
export function requireViewer(ctx: SubgraphContext): ContextUser {
  if (!ctx.viewer) throw unauthenticated('login_required');
  return ctx.viewer;
}

/**
 * The caller, holding `scope`: for `__resolveReference`, which graphql-shield does not cover. Each entity's reference
 * resolver checks the scope of the query field that would have returned the entity.
 */
export function requireScope(ctx: SubgraphContext, scope: string): ContextUser {
  const viewer = requireViewer(ctx);
  if (!hasScope(viewer, scope)) throw forbidden('missing_scope');
  return viewer;
}

/**
 * A reference to an object another subgraph owns (an argument or input field marked `@references(lookup: …)` in the
 * SDL): NOT_FOUND, exactly as for a missing object, unless the gateway looked it up as the caller and found it (it
 * signs what it found into the context). Deny by default: a call that did not come through that lookup is refused.
 */
export function assertReferenceVisible(ctx: SubgraphContext, lookup: string, id: string, message = 'Not found'): void {
  if (!ctx.forwarded.references?.includes(`${lookup}:${id}`)) throw notFound(message);
}

/** ISO-8601 timestamps, the same in every subgraph. */
export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An ISO-8601 timestamp in UTC',
  serialize: (value) => new Date(value as string | Date).toISOString(),
  parseValue: (value) => {
    const date = new Date(value as string);
    if (typeof value !== 'string' || Number.isNaN(date.getTime())) throw new TypeError('DateTime must be an ISO-8601 string');
    return date;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING || Number.isNaN(Date.parse(ast.value))) throw new TypeError('DateTime must be an ISO-8601 string');
    return new Date(ast.value);
  },
});

/** Reads and parses a subgraph's schema.graphql (the same file composition reads). */
export function loadTypeDefs(file: string): DocumentNode {
  return parse(readFileSync(file, 'utf8'));
}
