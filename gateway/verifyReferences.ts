import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import {
  Kind,
  getNamedType,
  parse,
  type ConstDirectiveNode,
  isInputObjectType,
  isListType,
  isNonNullType,
  valueFromAST,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { GatewayContext } from './SignedContextDataSource';

/** One id an operation refers to, and the root query field that finds its object (`@references(lookup:)`). */
interface Reference {
  lookup: string;
  id: string;
}

const LOOKUP = /^[_A-Za-z][_0-9A-Za-z]*$/;
/** More references than this in one mutation are not looked up (the subgraph then refuses them). */
const MAX_REFERENCES = 20;

/**
 * Where `@references` stands in a supergraph: `Type.field` for an input field, `Mutation.field(argument)` for an
 * argument, each with its lookup field. Read from the supergraph's SDL (the API schema keeps no such directive).
 */
export type ReferenceMap = ReadonlyMap<string, string>;

export function referenceMapOf(supergraphSdl: string): ReferenceMap {
  const map = new Map<string, string>();
  const lookupOf = (directives: readonly ConstDirectiveNode[] | undefined) => {
    const argument = directives
      ?.find((directive) => directive.name.value === 'references')
      ?.arguments?.find((candidate) => candidate.name.value === 'lookup');
    return argument?.value.kind === Kind.STRING && LOOKUP.test(argument.value.value) ? argument.value.value : undefined;
  };
  for (const definition of parse(supergraphSdl).definitions) {
    if (definition.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION || definition.kind === Kind.INPUT_OBJECT_TYPE_EXTENSION) {
      for (const field of definition.fields ?? []) {
        const lookup = lookupOf(field.directives);
        if (lookup) map.set(`${definition.name.value}.${field.name.value}`, lookup);
      }
    }
    if (
      (definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION) &&
      definition.name.value === 'Mutation'
    ) {
      for (const field of definition.fields ?? []) {
        for (const argument of field.arguments ?? []) {
          const lookup = lookupOf(argument.directives);
          if (lookup) map.set(`Mutation.${field.name.value}(${argument.name.value})`, lookup);
        }
      }
    }
  }
  return map;
}

/** Every `@references` id in a value of `type` (an argument or input field), through lists and input objects. */
function collect(type: GraphQLInputType, value: unknown, lookup: string | undefined, map: ReferenceMap, into: Reference[], depth = 0) {
  if (value === null || value === undefined || depth > 10) return;
  if (isNonNullType(type)) return collect(type.ofType, value, lookup, map, into, depth);
  if (isListType(type)) {
    if (Array.isArray(value)) for (const item of value) collect(type.ofType, item, lookup, map, into, depth + 1);
    return;
  }
  if (lookup && (typeof value === 'string' || typeof value === 'number')) into.push({ lookup, id: String(value) });
  const named = getNamedType(type);
  if (isInputObjectType(named) && typeof value === 'object') {
    for (const field of Object.values(named.getFields())) {
      const nested = (value as Record<string, unknown>)[field.name];
      collect(field.type, nested, map.get(`${named.name}.${field.name}`), map, into, depth + 1);
    }
  }
}

/** The references a mutation's root fields carry, from literals and variables alike. */
export function referencesOf(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  map: ReferenceMap,
): Reference[] {
  const mutation = schema.getMutationType();
  if (operation.operation !== 'mutation' || !mutation || !map.size) return [];
  const found: Reference[] = [];
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) continue;
    const field = mutation.getFields()[selection.name.value];
    for (const argument of selection.arguments ?? []) {
      const definition = field?.args.find((candidate) => candidate.name === argument.name.value);
      if (!definition) continue;
      const lookup = map.get(`Mutation.${field.name}(${definition.name})`);
      collect(definition.type, valueFromAST(argument.value, definition.type, variables), lookup, map, found);
    }
  }
  return found;
}

export interface VerifyReferencesOptions {
  /** The current supergraph's references (it reloads). */
  references(): ReferenceMap;
  lookup(query: string, variables: Record<string, unknown>, context: GatewayContext): Promise<unknown>;
}

/**
 * References to objects other subgraphs own (`@references(lookup: "record")` on an argument or input field): before a
 * mutation runs, each id is looked up through its root query field, as the caller, by the gateway's own executor (so
 * the owning subgraph's visibility rules decide), and the ids found travel to the subgraphs signed in the context.
 * A subgraph refuses any reference not among them exactly as it refuses a missing one. Nothing is refused here.
 * Runs once the operation is resolved, on either request path (the plugin below, or the lean pipeline).
 */
export function createReferenceVerifier(options: VerifyReferencesOptions) {
  return async (
    operation: OperationDefinitionNode,
    schema: GraphQLSchema,
    variables: Record<string, unknown>,
    contextValue: GatewayContext,
  ) => {
    if (operation.operation !== 'mutation' || !contextValue.user) return;
    const references = referencesOf(schema, operation, variables, options.references());
    const unique = [...new Map(references.map((reference) => [`${reference.lookup}:${reference.id}`, reference])).values()];
    if (!unique.length) return;
    // The inner lookups share the caller and request id, not the outer request's bookkeeping.
    const inner: GatewayContext = { ...contextValue, stats: undefined, setCookies: [], idempotencyKey: undefined };
    const verified = await Promise.all(
      unique.slice(0, MAX_REFERENCES).map(async ({ lookup, id }) => {
        if (!schema.getQueryType()?.getFields()[lookup]) return undefined;
        const data = await options.lookup(`query GatehouseReference($id: ID!) { found: ${lookup}(id: $id) { __typename } }`, { id }, inner);
        return (data as { found?: unknown } | undefined)?.found ? `${lookup}:${id}` : undefined;
      }),
    );
    contextValue.verifiedReferences = verified.filter((entry): entry is string => entry !== undefined);
  };
}

/** The reference check as an Apollo Server plugin. */
export function verifyReferences(verify: ReturnType<typeof createReferenceVerifier>): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, schema, request, contextValue }: GraphQLRequestContextDidResolveOperation<GatewayContext>) {
          if (operation) await verify(operation, schema, request.variables ?? {}, contextValue);
        },
      };
    },
  };
}
