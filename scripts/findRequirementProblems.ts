import {
  Kind,
  type ASTNode,
  type DirectiveNode,
  type DocumentNode,
  type EnumTypeDefinitionNode,
  type EnumTypeExtensionNode,
  type StringValueNode,
} from 'graphql';
import { isFieldedType, readRequirements, SCOPE_POLICY_PREFIX, type RoleTable } from '../auth';
import type { SubgraphSchema } from './composition';
import { roleEnumOf } from './permissionMatrix';
import { problemAt, type SchemaProblem } from './schemaProblem';

/** One name an authorization directive lists, where it is written, and what it is written on (`Type` or `Type.field`). */
export interface NamedInDirective {
  directive: 'requiresScopes' | 'policy';
  name: string;
  node: StringValueNode;
  coordinate: string;
}

function stringsOf(directive: DirectiveNode, argument: string): StringValueNode[] {
  const value = directive.arguments?.find((arg) => arg.name.value === argument)?.value;
  if (!value || value.kind !== Kind.LIST) return [];
  return value.values.flatMap((inner) =>
    inner.kind === Kind.LIST ? inner.values.filter((item): item is StringValueNode => item.kind === Kind.STRING) : [],
  );
}

/** Every scope (`@requiresScopes`) and policy (`@policy`) a subgraph's SDL names, on its types and their fields. */
export function namesInDirectives(document: DocumentNode): NamedInDirective[] {
  const named: NamedInDirective[] = [];
  const collect = (directives: readonly DirectiveNode[] | undefined, coordinate: string) => {
    for (const directive of directives ?? []) {
      const kind = directive.name.value;
      if (kind !== 'requiresScopes' && kind !== 'policy') continue;
      for (const node of stringsOf(directive, kind === 'policy' ? 'policies' : 'scopes'))
        named.push({ directive: kind, name: node.value, node, coordinate });
    }
  };
  for (const definition of document.definitions) {
    if (!('name' in definition) || !definition.name || !('directives' in definition)) continue;
    const type = definition.name.value;
    collect(definition.directives, type);
    if ('fields' in definition) for (const field of definition.fields ?? []) collect(field.directives, `${type}.${field.name.value}`);
  }
  return named;
}

/** The first definition of each `Type.field` of the object and interface types (and their extensions). */
export function fieldNodesOf(document: DocumentNode): Map<string, ASTNode> {
  const nodes = new Map<string, ASTNode>();
  for (const definition of document.definitions) {
    if (!isFieldedType(definition)) continue;
    for (const field of definition.fields ?? []) {
      const coordinate = `${definition.name.value}.${field.name.value}`;
      if (!nodes.has(coordinate)) nodes.set(coordinate, field.name);
    }
  }
  return nodes;
}

/**
 * What one subgraph's SDL gets wrong about authorization, each at its place: a field without any requirement (refused
 * to everyone), a scope no role of roles.yaml grants, an `enum Role` that differs from roles.yaml's roles. Without a
 * role table (roles.yaml unusable) only the first is checked.
 */
export function findRequirementProblems(schema: SubgraphSchema, roles?: RoleTable): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const nodes = fieldNodesOf(schema.document);
  for (const [coordinate, requirement] of readRequirements(schema.document)) {
    if (requirement.ruled) continue;
    problems.push(
      problemAt(
        nodes.get(coordinate)!,
        'no-requirement',
        `${coordinate} has no authorization requirement, so it is refused to everyone: add @public, @authenticated, @requiresScopes or @policy to it or its type`,
      ),
    );
  }
  if (!roles) return problems;
  const granted = new Set(roles.roles.flatMap((role) => roles.scopesOfRole(role)));
  for (const { directive, name, node, coordinate } of namesInDirectives(schema.document)) {
    const scope =
      directive === 'requiresScopes' ? name : name.startsWith(SCOPE_POLICY_PREFIX) ? name.slice(SCOPE_POLICY_PREFIX.length) : undefined;
    if (scope === undefined || granted.has(scope)) continue;
    problems.push(
      problemAt(
        node,
        'unknown-scope',
        `${coordinate} names the scope "${scope}", which no role in roles.yaml grants: grant it to a role, or fix the name`,
      ),
    );
  }
  // A client names roles through the enum (setUserRoles, inviteUser): it must offer exactly the roles of the file.
  const roleEnum = roleEnumOf(schema.document);
  if (roleEnum && [...roleEnum].sort().join() !== [...roles.roles].sort().join()) {
    const node = schema.document.definitions.find(
      (definition): definition is EnumTypeDefinitionNode | EnumTypeExtensionNode =>
        (definition.kind === Kind.ENUM_TYPE_DEFINITION || definition.kind === Kind.ENUM_TYPE_EXTENSION) && definition.name.value === 'Role',
    );
    const message = `enum Role has ${roleEnum.join(', ')}; roles.yaml has ${roles.roles.join(', ')}: list exactly the roles of roles.yaml`;
    problems.push(problemAt(node?.name ?? schema.document, 'role-enum', message));
  }
  return problems;
}
