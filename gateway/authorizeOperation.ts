import { createHash } from 'node:crypto';
import {
  GraphQLError,
  Kind,
  getNamedType,
  isAbstractType,
  isCompositeType,
  isListType,
  isNonNullType,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import { decide, refusalError, type Caller, type Decision, type Requirement } from '../auth';

/** A field the caller may not see, removed from the operation before planning. */
export interface Removal {
  /** Response keys from the root to the field, with each one's declared type. */
  steps: { key: string; type: GraphQLOutputType }[];
  /** The object types the field was selected on, when narrower than the parent field's type (a fragment). */
  onTypes?: ReadonlySet<string>;
  error: GraphQLError;
}

/** What the caller may run of one operation: the document to plan (the original when nothing is removed). */
export interface AuthorizedOperation {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  queryHash: string;
  removals: readonly Removal[];
  /** Nothing is left to execute: no subgraph is called. */
  empty: boolean;
}

/** Selected (hidden) where a removal inside a fragment needs the object's type; stripped from the answer. */
const TYPENAME_ALIAS = '__gatehouse_typename';
const TYPENAME_FIELD: FieldNode = {
  kind: Kind.FIELD,
  alias: { kind: Kind.NAME, value: TYPENAME_ALIAS },
  name: { kind: Kind.NAME, value: '__typename' },
};
const PLAIN_TYPENAME: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } };

/**
 * Removes from `operation` every field whose requirement (read from the supergraph's directives) the caller does not
 * meet, as Apollo Router does before planning. A selection left empty keeps `__typename`. When anything is removed,
 * named fragments are inlined, so that each spread is filtered where it stands and the document needs no definitions.
 */
export function authorizeDocument(options: {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  queryHash: string;
  callerKey: string;
  schema: GraphQLSchema;
  requirements: ReadonlyMap<string, Requirement>;
  caller: Caller;
  stepUpMaxAgeSeconds: number;
}): AuthorizedOperation {
  const { schema, requirements, caller } = options;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of options.document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const removals: Removal[] = [];
  const decisions = new Map<Requirement, Decision>();

  const filter = (
    selectionSet: SelectionSetNode,
    parentType: GraphQLCompositeType,
    staticType: GraphQLCompositeType,
    steps: Removal['steps'],
    state: { needsTypename: boolean; changed: boolean },
  ): SelectionNode[] => {
    const kept: SelectionNode[] = [];
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name.startsWith('__')) {
          kept.push(selection); // __typename, and introspection (allowed or not by configuration)
          continue;
        }
        const key = selection.alias?.value ?? name;
        const fieldDef = 'getFields' in parentType ? parentType.getFields()[name] : undefined;
        if (!fieldDef) {
          kept.push(selection); // not in the schema: validation has refused it already
          continue;
        }
        const requirement = requirements.get(`${parentType.name}.${name}`);
        let decision: Decision = { outcome: 'deny', code: 'FORBIDDEN', reason: 'no_rule' };
        if (requirement) {
          decision = decisions.get(requirement) ?? decide(requirement, caller);
          decisions.set(requirement, decision);
        }
        const fieldSteps = [...steps, { key, type: fieldDef.type }];
        if (decision.outcome === 'deny') {
          const error = refusalError(decision, options.stepUpMaxAgeSeconds);
          const onTypes = isAbstractType(parentType) ? schema.getPossibleTypes(parentType).map((type) => type.name) : [parentType.name];
          removals.push({ steps: fieldSteps, ...(parentType !== staticType ? { onTypes: new Set(onTypes) } : {}), error });
          if (parentType !== staticType) state.needsTypename = true;
          state.changed = true;
          continue;
        }
        if (!selection.selectionSet) {
          kept.push(selection);
          continue;
        }
        const returnType = getNamedType(fieldDef.type) as GraphQLCompositeType;
        const inner = { needsTypename: false, changed: false };
        const selections = filter(selection.selectionSet, returnType, returnType, fieldSteps, inner);
        if (!inner.changed) {
          kept.push(selection);
          continue;
        }
        state.changed = true;
        if (inner.needsTypename) selections.push(TYPENAME_FIELD);
        if (!selections.length) selections.push(PLAIN_TYPENAME);
        kept.push({ ...selection, selectionSet: { kind: Kind.SELECTION_SET, selections } });
        continue;
      }
      const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
      if (!fragment) continue;
      const condition = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : parentType;
      if (!condition || !isCompositeType(condition)) continue;
      const inner = { needsTypename: false, changed: selection.kind === Kind.FRAGMENT_SPREAD };
      const selections = filter(fragment.selectionSet, condition, staticType, steps, inner);
      if (inner.needsTypename) state.needsTypename = true;
      if (!inner.changed) {
        kept.push(selection);
        continue;
      }
      state.changed = true;
      if (!selections.length) continue;
      kept.push({
        kind: Kind.INLINE_FRAGMENT,
        ...(fragment.typeCondition ? { typeCondition: fragment.typeCondition } : {}),
        directives: selection.directives,
        selectionSet: { kind: Kind.SELECTION_SET, selections },
      });
    }
    return kept;
  };

  const rootType = schema.getRootType(options.operation.operation)!;
  const state = { needsTypename: false, changed: false };
  const selections = filter(options.operation.selectionSet, rootType, rootType, [], state);
  // Nothing refused: the operation runs as it came, under its own hash (named fragments included).
  if (!removals.length)
    return { document: options.document, operation: options.operation, queryHash: options.queryHash, removals, empty: false };
  const operation: OperationDefinitionNode = { ...options.operation, selectionSet: { kind: Kind.SELECTION_SET, selections } };
  return {
    // Fragments are inlined above: the filtered document is the operation alone.
    document: { kind: Kind.DOCUMENT, definitions: [operation] },
    operation,
    // The gateway caches query plans by this hash: a filtered document must never share the original's plan.
    queryHash: createHash('sha256').update(options.queryHash).update('\0').update(options.callerKey).digest('hex'),
    removals,
    empty: selections.length === 0,
  };
}

type Holder = Record<string, unknown> | unknown[];
interface Place {
  holder: Holder;
  key: string | number;
  type: GraphQLOutputType;
}

/**
 * Sets the place to null; a non-null place passes the null up to its parent, as GraphQL execution does. The chain
 * starts at the response's `data`, which is nullable: the walk always ends.
 */
function nullOut(chain: Place[]): void {
  for (let i = chain.length - 1; i >= 0; i -= 1) {
    const place = chain[i];
    if (!isNonNullType(place.type)) {
      (place.holder as Record<string | number, unknown>)[place.key] = null;
      return;
    }
  }
}

/**
 * Puts the removed fields back into `data` as null (passing nulls up through non-null fields) and returns one coded
 * error per place, at its exact path. A field whose parent is null or absent left nowhere to report.
 */
export function applyRemovals(response: { data?: Record<string, unknown> | null }, removals: readonly Removal[]): GraphQLError[] {
  const errors: GraphQLError[] = [];
  const wrapper = { data: response.data } as Record<string, unknown>;
  const visit = (
    value: unknown,
    removal: Removal,
    stepIndex: number,
    path: (string | number)[],
    chain: Place[],
    type: GraphQLOutputType | undefined, // undefined: the root data object
  ) => {
    if (value === null || value === undefined) return;
    const unwrapped = type && isNonNullType(type) ? type.ofType : type;
    if (unwrapped && isListType(unwrapped)) {
      if (!Array.isArray(value)) return;
      value.forEach((item, index) =>
        visit(
          item,
          removal,
          stepIndex,
          [...path, index],
          [...chain, { holder: value, key: index, type: unwrapped.ofType }],
          unwrapped.ofType,
        ),
      );
      return;
    }
    if (typeof value !== 'object') return;
    const object = value as Record<string, unknown>;
    const step = removal.steps[stepIndex];
    if (stepIndex === removal.steps.length - 1) {
      if (removal.onTypes && !removal.onTypes.has(object[TYPENAME_ALIAS] as string)) return;
      errors.push(new GraphQLError(removal.error.message, { path: [...path, step.key], extensions: removal.error.extensions }));
      if (isNonNullType(step.type)) nullOut(chain);
      else object[step.key] = null;
      return;
    }
    visit(
      object[step.key],
      removal,
      stepIndex + 1,
      [...path, step.key],
      [...chain, { holder: object, key: step.key, type: step.type }],
      step.type,
    );
  };
  // The root data object's place: nullable.
  const root: Place = { holder: wrapper, key: 'data', type: { toString: () => 'data' } as unknown as GraphQLOutputType };
  for (const removal of removals) visit(wrapper.data, removal, 0, [], [root], undefined);
  response.data = wrapper.data as Record<string, unknown> | null;
  return errors;
}

/** Strips the hidden `__typename` from every object of the answer. */
export function stripHiddenTypename(value: unknown): void {
  if (Array.isArray(value)) for (const item of value) stripHiddenTypename(item);
  else if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    delete object[TYPENAME_ALIAS];
    for (const key in object) stripHiddenTypename(object[key]);
  }
}

/** A bounded cache of authorized operations, per (operation, caller's scope set); emptied when the supergraph changes. */
export function createAuthorizationCache(max = 1000) {
  return new LRUCache<string, AuthorizedOperation>({ max });
}
