import { Kind, parse, type DocumentNode, type SelectionSetNode } from 'graphql';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';

type Path = ReadonlyArray<string | number>;

const responseNames = (selectionSet: SelectionSetNode | undefined): string[] =>
  (selectionSet?.selections ?? []).flatMap((selection) =>
    selection.kind === Kind.FIELD && selection.name.value !== '__typename' ? [selection.alias?.value ?? selection.name.value] : [],
  );

/**
 * Where the fields of one subgraph fetch land, in the subgraph's own response: each root field of a root fetch, or
 * `_entities[i].field` for each representation and each field its type asks for. Apollo Gateway maps those paths onto
 * the client's response, so an error put there nulls exactly the fields this fetch would have filled.
 */
export function fieldPathsOfFetch(document: DocumentNode | undefined, variables: Record<string, unknown> | undefined): Path[] {
  const operation = document?.definitions.find((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return [];
  const root = operation.selectionSet.selections;
  const entities = root.find((selection) => selection.kind === Kind.FIELD && selection.name.value === '_entities');
  const representations = variables?.representations;
  if (!entities || entities.kind !== Kind.FIELD || !Array.isArray(representations))
    return responseNames(operation.selectionSet).map((name) => [name]);
  const fieldsByType = new Map<string, string[]>();
  for (const selection of entities.selectionSet?.selections ?? []) {
    if (selection.kind === Kind.INLINE_FRAGMENT && selection.typeCondition) {
      const type = selection.typeCondition.name.value;
      fieldsByType.set(type, [...(fieldsByType.get(type) ?? []), ...responseNames(selection.selectionSet)]);
    }
  }
  return representations.flatMap((representation, index) => {
    const fields = fieldsByType.get((representation as { __typename?: string })?.__typename ?? '') ?? [];
    return fields.length ? fields.map((field) => ['_entities', index, field]) : [['_entities', index]];
  });
}

/**
 * The answer of a subgraph fetch that failed as a whole (unreachable, timed out, not a GraphQL response): no data, and
 * one coded error at each field the fetch would have filled. The rest of the client's operation is unaffected: those
 * fields come back null with this error at their path, their siblings from other fetches intact, HTTP 200.
 */
export function failedFetchResponse(
  query: string | undefined,
  variables: Record<string, unknown> | undefined,
  error: { message: string; code: string; reason?: string },
): GatewayGraphQLResponse {
  const extensions = { code: error.code, ...(error.reason ? { reason: error.reason } : {}) };
  // Parsed on failure only: the planner's fetch operations are well-formed, and this is off the hot path.
  let document: DocumentNode | undefined;
  try {
    document = query ? parse(query) : undefined;
  } catch {
    document = undefined;
  }
  const paths = fieldPathsOfFetch(document, variables);
  return {
    data: null,
    errors: (paths.length ? paths : [undefined]).map((path) => ({ message: error.message, extensions, ...(path ? { path } : {}) })),
  };
}
