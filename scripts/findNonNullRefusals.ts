import { Kind, print, type FieldDefinitionNode, type TypeNode } from 'graphql';
import {
  decide,
  isFieldedType,
  readRequirements,
  readTypeRequirements,
  scopesNamedBy,
  type Caller,
  type Decision,
  type Requirement,
  type RoleTable,
} from '../auth';
import type { SubgraphSchema } from './composition';
import { problemAt, type SchemaProblem } from './schemaProblem';

/** One field of one subgraph, with what it takes to read it. */
interface FieldSite {
  schema: SubgraphSchema;
  type: string;
  node: FieldDefinitionNode;
  requirement: Requirement;
  /** The type's own requirement in this subgraph: who may see its objects at all. */
  typeRequirement?: Requirement;
}

interface NamedCaller {
  name: string;
  caller: Caller;
}

const ROOT_TYPES = ['Query', 'Mutation', 'Subscription'];
const namedTypeOf = (type: TypeNode): string => (type.kind === Kind.NAMED_TYPE ? type.name.value : namedTypeOf(type.type));

/** Anonymous, then each role of the roles file without and with a recent second factor. */
function callersOf(roles: RoleTable): NamedCaller[] {
  const callers: NamedCaller[] = [{ name: 'anonymous callers', caller: { authenticated: false, hasScope: () => false, steppedUp: false } }];
  for (const role of roles.roles) {
    const hasScope = (scope: string) => roles.scopesOfRole(role).includes(scope);
    callers.push({ name: role, caller: { authenticated: true, hasScope, steppedUp: false } });
    callers.push({ name: `${role} with a recent second factor`, caller: { authenticated: true, hasScope, steppedUp: true } });
  }
  return callers;
}

function sitesOf(schemas: readonly SubgraphSchema[]): { sites: FieldSite[]; concrete: Map<string, Set<string>> } {
  const sites: FieldSite[] = [];
  // An abstract type's possible types (union members, implementations): serving the one may serve each of these.
  const concrete = new Map<string, Set<string>>();
  const add = (abstract: string, type: string) => (concrete.get(abstract) ?? concrete.set(abstract, new Set()).get(abstract)!).add(type);
  for (const schema of schemas) {
    const requirements = readRequirements(schema.document);
    const typeRequirements = readTypeRequirements(schema.document);
    const seen = new Set<string>();
    for (const definition of schema.document.definitions) {
      if (definition.kind === Kind.UNION_TYPE_DEFINITION || definition.kind === Kind.UNION_TYPE_EXTENSION)
        for (const member of definition.types ?? []) add(definition.name.value, member.name.value);
      if (!isFieldedType(definition)) continue;
      const type = definition.name.value;
      for (const implemented of definition.interfaces ?? []) add(implemented.name.value, type);
      for (const node of definition.fields ?? []) {
        const requirement = requirements.get(`${type}.${node.name.value}`);
        if (!requirement || seen.has(`${type}.${node.name.value}`)) continue;
        seen.add(`${type}.${node.name.value}`);
        sites.push({ schema, type, node, requirement, typeRequirement: typeRequirements.get(type) });
      }
    }
  }
  return { sites, concrete };
}

/** The types `caller` may be served an object of, each with the first field that serves it (null for a root type). */
function reachableTypes(sites: readonly FieldSite[], concrete: Map<string, Set<string>>, caller: Caller): Map<string, string | null> {
  const servedBy = new Map<string, string | null>(ROOT_TYPES.map((type) => [type, null]));
  const queue = [...ROOT_TYPES];
  for (let type = queue.shift(); type !== undefined; type = queue.shift()) {
    for (const site of sites) {
      if (site.type !== type || decide(site.requirement, caller).outcome === 'deny') continue;
      const returned = namedTypeOf(site.node.type);
      for (const target of [returned, ...(concrete.get(returned) ?? [])]) {
        if (servedBy.has(target)) continue;
        servedBy.set(target, `${site.type}.${site.node.name.value}`);
        queue.push(target);
      }
    }
  }
  return servedBy;
}

/** Why `decision` may refuse the field to the caller, as the end of a sentence about that caller. */
function refusalOf(
  decision: Exclude<Decision, { outcome: 'allow' }>,
  requirement: Requirement,
  { name, caller }: NamedCaller,
  type: string,
) {
  if (decision.outcome === 'object') {
    const policies = decision.groups.map((group) => group.map((policy) => `"${policy}"`).join(' and ')).join(' or ');
    return `the object policy ${policies} decides for ${name}, ${type} by ${type}`;
  }
  if (decision.code === 'UNAUTHENTICATED') return `${name} are refused it`;
  if (decision.code === 'STEP_UP_REQUIRED') return `${name} must first prove a recent second factor`;
  const missing = scopesNamedBy(requirement).filter((scope) => !caller.hasScope(scope));
  return `${name} lacks ${missing.map((scope) => `"${scope}"`).join(', ')}`;
}

/**
 * Each non-null field that may be refused to a caller who is served its parent object: GraphQL then nulls the
 * parent (the gateway and the subgraph both pass the null up, as execution does), so one refusal loses every sibling
 * field, and in a `[T!]` list every member. Decided per caller from roles.yaml (anonymous, each role, without and with
 * a recent second factor), following who may reach which type from the root fields through every subgraph. A
 * caller the type's own requirement refuses is not served the object at all, so a type-level requirement is never the
 * cause. Root Subscription fields are exempt: a subscription has exactly one root field.
 */
export function findNonNullRefusals(schemas: readonly SubgraphSchema[], roles: RoleTable): SchemaProblem[] {
  const { sites, concrete } = sitesOf(schemas);
  const problems: SchemaProblem[] = [];
  const reported = new Set<FieldSite>();
  for (const named of callersOf(roles)) {
    const servedBy = reachableTypes(sites, concrete, named.caller);
    for (const site of sites) {
      if (reported.has(site) || site.node.type.kind !== Kind.NON_NULL_TYPE || !site.requirement.ruled) continue;
      if (site.type === 'Subscription' || !servedBy.has(site.type)) continue;
      if (site.typeRequirement && decide(site.typeRequirement, named.caller).outcome === 'deny') continue;
      const decision = decide(site.requirement, named.caller);
      if (decision.outcome === 'allow') continue;
      reported.add(site);
      const field = site.node.name.value;
      const parent = servedBy.get(site.type);
      const where = parent ? `a ${site.type} is served to ${named.name} through ${parent}` : `the ${site.type} root is open to everyone`;
      const lost = parent
        ? `nulls the whole ${site.type}, and a [${site.type}!] list with it`
        : 'nulls the whole response data, every other root field with it';
      const why = refusalOf(decision, site.requirement, named, parent ? site.type : 'field');
      problems.push(
        problemAt(
          site.node.name,
          'non-null-refusal',
          `${site.type}.${field}: ${print(site.node.type)} is non-null but may be refused where its parent is served: ${where}, and ${why}. A refusal ${lost}. Make it nullable: ${field}: ${print(site.node.type.type)}`,
        ),
      );
    }
  }
  return problems;
}
