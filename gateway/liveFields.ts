import {
  Kind,
  OperationTypeNode,
  getNamedType,
  isNonNullType,
  parse,
  print,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type StringValueNode,
} from 'graphql';

/** A subscription field fed by events (`@event(topic:, lookup:)` in its subgraph's SDL). */
export interface LiveField {
  topic: string;
  /** The root query field that looks one object up by `id`, as the subscriber. */
  lookup: string;
}
export type LiveFieldMap = ReadonlyMap<string, LiveField>;

/** The `Subscription` fields of the supergraph that carry `@event`, by field name. */
export function liveFieldsOf(supergraphSdl: string): LiveFieldMap {
  const fields = new Map<string, LiveField>();
  for (const definition of parse(supergraphSdl).definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION || definition.name.value !== 'Subscription') continue;
    for (const field of definition.fields ?? []) {
      const event = field.directives?.find((directive) => directive.name.value === 'event');
      const argument = (name: string) =>
        (event?.arguments?.find((arg) => arg.name.value === name)?.value as StringValueNode | undefined)?.value;
      const topic = argument('topic');
      const lookup = argument('lookup');
      if (topic && lookup) fields.set(field.name.value, { topic, lookup });
    }
  }
  return fields;
}

/** The variable that carries the event's object id into the lookup; a client's variable may not take its name. */
export const EVENT_ID_VARIABLE = '__gatehouse_event_id';

/**
 * Turns `subscription { complaintUpdated(id: $id) { …selection } }` into the query run for each event:
 * `query { complaintUpdated: complaint(id: $__gatehouse_event_id) { …selection } }` — the same response key, the same
 * selection and fragments, only the variables the selection still uses. The query goes through the gateway like any
 * other: planned, authorized field by field, each subgraph call signed for the subscriber.
 */
export function buildLookupQuery(options: {
  schema: GraphQLSchema;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  field: FieldNode;
  lookup: string;
}): string {
  const lookupField: GraphQLField<unknown, unknown> | undefined = options.schema.getQueryType()?.getFields()[options.lookup];
  const idArgument = lookupField?.args.find((arg) => arg.name === 'id');
  if (!lookupField || !idArgument || !isNonNullType(idArgument.type) || getNamedType(idArgument.type).name !== 'ID') {
    throw new TypeError(`@event lookup "${options.lookup}" must be a root query field taking "id: ID!"`);
  }
  const rootField: FieldNode = {
    kind: Kind.FIELD,
    alias: { kind: Kind.NAME, value: options.field.alias?.value ?? options.field.name.value },
    name: { kind: Kind.NAME, value: options.lookup },
    arguments: [
      {
        kind: Kind.ARGUMENT,
        name: { kind: Kind.NAME, value: 'id' },
        value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: EVENT_ID_VARIABLE } },
      },
    ],
    directives: options.field.directives,
    selectionSet: options.field.selectionSet,
  };
  // The fragments the selection reaches, and the variables it (and they) use: nothing else may stay in the query.
  const allFragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of options.document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) allFragments.set(definition.name.value, definition);
  }
  const fragments: FragmentDefinitionNode[] = [];
  const used = new Set<string>();
  const collect = (node: FieldNode | FragmentDefinitionNode) =>
    visit(node, {
      Variable: (variable) => void used.add(variable.name.value),
      FragmentSpread: (spread) => {
        const fragment = allFragments.get(spread.name.value);
        if (fragment && !fragments.includes(fragment)) {
          fragments.push(fragment);
          collect(fragment);
        }
      },
    });
  collect(rootField);
  const operation: OperationDefinitionNode = {
    kind: Kind.OPERATION_DEFINITION,
    operation: OperationTypeNode.QUERY,
    name: options.operation.name,
    variableDefinitions: [
      ...(options.operation.variableDefinitions ?? []).filter((definition) => used.has(definition.variable.name.value)),
      {
        kind: Kind.VARIABLE_DEFINITION,
        variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: EVENT_ID_VARIABLE } },
        type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'ID' } } },
      },
    ],
    selectionSet: { kind: Kind.SELECTION_SET, selections: [rootField] },
  };
  return print({ kind: Kind.DOCUMENT, definitions: [operation, ...fragments] });
}
