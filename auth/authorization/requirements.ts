import {
  Kind,
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
  type InterfaceTypeDefinitionNode,
  type InterfaceTypeExtensionNode,
} from 'graphql';

/**
 * Who may read a field, as the schema declares it with the federation authorization directives
 * (`@authenticated`, `@requiresScopes`, `@policy`) and Gatehouse's composed `@public`. A requirement on a type holds
 * for each of its fields, together with the field's own (both must be met).
 *
 * Deny by default: a field with no directive on it or on its type has no rule and is refused to everyone.
 *
 * Policies, `@policy(policies: [[…]])`, are names. Gatehouse decides two kinds from the caller alone, at the gateway
 * and again in the subgraph: `step_up` (a second factor proved within STEP_UP_MAX_AGE_SECONDS) and `scope:<scope>`
 * (the caller holds that scope: "the owner, or a caller with scope X" is `[["owner"], ["scope:X"]]`). Every other
 * name is an object policy: it needs the object, so the subgraph decides it, by name, in its own code.
 */
export interface Requirement {
  /** The field or its type carries at least one of the directives (else it has no rule: refused). */
  ruled: boolean;
  /** Only a signed-in caller (also implied by any scope or policy). */
  authenticated: boolean;
  /** Any one group, every scope of it (OR of AND); null when none is required. */
  scopes: readonly (readonly string[])[] | null;
  /** Any one group, every policy of it (OR of AND); null when none is required. */
  policies: readonly (readonly string[])[] | null;
  /** A canonical text of the requirement: equal requirements have equal keys. */
  key: string;
}

export const STEP_UP_POLICY = 'step_up';
export const SCOPE_POLICY_PREFIX = 'scope:';
/** The directives that rule a field (federation's three, and `@public`). */
export const AUTHORIZATION_DIRECTIVES = ['public', 'authenticated', 'requiresScopes', 'policy'] as const;

/** The link a subgraph imports `@public` from, and the directive's definition (see `npm run subgraph:new`). */
export const PUBLIC_DIRECTIVE_URL = 'https://gatehouse.dev/authorization/v0.1';

/** True for a policy Gatehouse decides from the caller alone (`step_up`, `scope:…`). */
export const isCallerPolicy = (policy: string) => policy === STEP_UP_POLICY || policy.startsWith(SCOPE_POLICY_PREFIX);

type TypeNode = ObjectTypeDefinitionNode | ObjectTypeExtensionNode | InterfaceTypeDefinitionNode | InterfaceTypeExtensionNode;

/** True for the definitions and extensions of object and interface types: the ones with fields a requirement rules. */
export function isFieldedType(definition: { kind: Kind }): definition is TypeNode {
  return (
    definition.kind === Kind.OBJECT_TYPE_DEFINITION ||
    definition.kind === Kind.OBJECT_TYPE_EXTENSION ||
    definition.kind === Kind.INTERFACE_TYPE_DEFINITION ||
    definition.kind === Kind.INTERFACE_TYPE_EXTENSION
  );
}

function listOfLists(directive: ConstDirectiveNode, argument: string): string[][] {
  const value = directive.arguments?.find((arg) => arg.name.value === argument)?.value;
  if (!value || value.kind !== Kind.LIST) return [];
  return value.values.map((inner) =>
    inner.kind === Kind.LIST ? inner.values.flatMap((item) => (item.kind === Kind.STRING ? [item.value] : [])) : [],
  );
}

interface Declared {
  any: boolean;
  authenticated: boolean;
  scopes: string[][][];
  policies: string[][][];
}

function declaredOn(directives: readonly ConstDirectiveNode[] | undefined, into: Declared) {
  for (const directive of directives ?? []) {
    const name = directive.name.value;
    if (!(AUTHORIZATION_DIRECTIVES as readonly string[]).includes(name)) continue;
    into.any = true;
    if (name === 'authenticated') into.authenticated = true;
    if (name === 'requiresScopes') into.scopes.push(listOfLists(directive, 'scopes'));
    if (name === 'policy') into.policies.push(listOfLists(directive, 'policies'));
  }
}

/** AND of several OR-of-AND lists, as one OR-of-AND list (each group sorted, duplicates dropped). */
function conjunction(lists: string[][][]): string[][] | null {
  if (!lists.length) return null;
  let groups: string[][] = [[]];
  for (const list of lists) groups = groups.flatMap((group) => list.map((alternative) => [...new Set([...group, ...alternative])].sort()));
  const seen = new Set<string>();
  return groups.filter((group) => !seen.has(group.join(' ')) && seen.add(group.join(' ')));
}

function requirementOf(declared: Declared): Requirement {
  const scopes = conjunction(declared.scopes);
  const policies = conjunction(declared.policies);
  const authenticated = declared.authenticated || scopes !== null || policies !== null;
  const text = (groups: string[][] | null) => (groups ? groups.map((group) => group.join('&')).join('|') : '-');
  return {
    ruled: declared.any,
    authenticated,
    scopes,
    policies,
    key: declared.any ? `${authenticated ? 'auth' : 'public'};${text(scopes)};${text(policies)}` : 'unruled',
  };
}

/** A type's fields and directives, merged over its definition and extensions. */
interface TypeDeclarations {
  directives: ConstDirectiveNode[];
  fields: Map<string, FieldDefinitionNode[]>;
}

/**
 * Reads the requirement of every field of every object and interface type of `document` (a subgraph's SDL, or the
 * composed supergraph). Keys are `Type.field`. Federation's own types and fields (`_Service`, `_entities`, …) and
 * the supergraph's `join__`/`link__` machinery are not included.
 */
export function readRequirements(document: DocumentNode): Map<string, Requirement> {
  const types = new Map<string, TypeDeclarations>();
  for (const definition of document.definitions) {
    if (!isFieldedType(definition)) continue;
    const node = definition;
    if (node.name.value.startsWith('_')) continue;
    let entry = types.get(node.name.value);
    if (!entry) types.set(node.name.value, (entry = { directives: [], fields: new Map() }));
    entry.directives.push(...(node.directives ?? []));
    for (const field of node.fields ?? []) {
      const list = entry.fields.get(field.name.value) ?? [];
      list.push(field);
      entry.fields.set(field.name.value, list);
    }
  }
  const requirements = new Map<string, Requirement>();
  for (const [typeName, type] of types) {
    for (const [fieldName, nodes] of type.fields) {
      if (fieldName.startsWith('_')) continue;
      const declared: Declared = { any: false, authenticated: false, scopes: [], policies: [] };
      declaredOn(type.directives, declared);
      for (const node of nodes) declaredOn(node.directives, declared);
      requirements.set(`${typeName}.${fieldName}`, requirementOf(declared));
    }
  }
  return requirements;
}

/** The requirement a type declares for itself (its own directives only): what `__resolveReference` must meet. */
export function readTypeRequirements(document: DocumentNode): Map<string, Requirement> {
  const declared = new Map<string, Declared>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const entry = declared.get(definition.name.value) ?? { any: false, authenticated: false, scopes: [], policies: [] };
    declaredOn(definition.directives, entry);
    declared.set(definition.name.value, entry);
  }
  return new Map([...declared].filter(([, entry]) => entry.any).map(([name, entry]) => [name, requirementOf(entry)]));
}

/** Every scope a requirement names (in `@requiresScopes` or as a `scope:` policy). */
export function scopesNamedBy(requirement: Requirement): string[] {
  const named = new Set<string>();
  for (const group of requirement.scopes ?? []) for (const scope of group) named.add(scope);
  for (const group of requirement.policies ?? [])
    for (const policy of group) if (policy.startsWith(SCOPE_POLICY_PREFIX)) named.add(policy.slice(SCOPE_POLICY_PREFIX.length));
  return [...named];
}

/** The caller, as far as the caller-only checks need it. */
export interface Caller {
  authenticated: boolean;
  hasScope(scope: string): boolean;
  /** A second factor within the step-up window. */
  steppedUp: boolean;
}

export type Decision =
  | { outcome: 'allow' }
  /** Allowed as far as the caller goes; the object policies of one of these groups must hold (the subgraph decides). */
  | { outcome: 'object'; groups: readonly (readonly string[])[] }
  | { outcome: 'deny'; code: 'UNAUTHENTICATED' | 'FORBIDDEN' | 'STEP_UP_REQUIRED'; reason: string };

const ALLOW: Decision = Object.freeze({ outcome: 'allow' });

/**
 * Decides what the caller alone allows. Refusals: UNAUTHENTICATED `login_required` for an anonymous caller,
 * FORBIDDEN `no_rule` (no requirement declared) or `missing_scope`, STEP_UP_REQUIRED when only a recent second
 * factor is missing.
 */
export function decide(requirement: Requirement, caller: Caller): Decision {
  if (!requirement.ruled) return { outcome: 'deny', code: 'FORBIDDEN', reason: 'no_rule' };
  if (!requirement.authenticated) return ALLOW;
  if (!caller.authenticated) return { outcome: 'deny', code: 'UNAUTHENTICATED', reason: 'login_required' };
  if (requirement.scopes && !requirement.scopes.some((group) => group.every((scope) => caller.hasScope(scope)))) {
    return { outcome: 'deny', code: 'FORBIDDEN', reason: 'missing_scope' };
  }
  if (!requirement.policies) return ALLOW;
  const objectGroups: (readonly string[])[] = [];
  let needsStepUp = false;
  for (const group of requirement.policies) {
    let objectPolicies: string[] | undefined;
    let met = true;
    let stepUp = false;
    for (const policy of group) {
      if (policy === STEP_UP_POLICY) stepUp = !caller.steppedUp;
      else if (policy.startsWith(SCOPE_POLICY_PREFIX)) met &&= caller.hasScope(policy.slice(SCOPE_POLICY_PREFIX.length));
      else (objectPolicies ??= []).push(policy);
    }
    if (!met) continue;
    if (stepUp) needsStepUp = true;
    else if (!objectPolicies) return ALLOW;
    else objectGroups.push(objectPolicies);
  }
  if (objectGroups.length) return { outcome: 'object', groups: objectGroups };
  if (needsStepUp) return { outcome: 'deny', code: 'STEP_UP_REQUIRED', reason: 'step_up_required' };
  return { outcome: 'deny', code: 'FORBIDDEN', reason: 'missing_scope' };
}
