/**
 * Rewrites the subgraphs' Federation 2 SDL into the Federation 1 form @mercuriusjs/gateway reads, for the benchmark
 * only: the subgraphs serve (and answer) their Federation 2 schemas unchanged, and only the gateway is handed these.
 * - `schema` and `extend schema @link(…)`, directive definitions, and what Federation 2 adds to a subgraph's schema
 *   (`_entities`, `_service`, `_Any`, `link__…`, `federation__…`) go: the gateway adds its own. Of the directives
 *   used, only @key stays (without `resolvable`): the gateway enforces none of the authorization directives, as stock
 *   Apollo Gateway in (b) does not.
 * - Query and Mutation become `extend type` in every subgraph (in Federation 1 no subgraph owns them).
 * - An entity (@key) defined in several subgraphs is owned by the one that defines the most fields of it; the others
 *   extend it, with their key fields @external.
 */
import { Kind, parse, print, type ConstDirectiveNode as DirectiveNode, type DefinitionNode, type ObjectTypeDefinitionNode } from 'graphql';

const ROOTS = new Set(['Query', 'Mutation', 'Subscription']);
const isFederationMachinery = (name: string) => name.startsWith('_') || name.startsWith('link__') || name.startsWith('federation__');
const keyOf = (type: ObjectTypeDefinitionNode) => type.directives?.find((directive) => directive.name.value === 'key');

function withoutResolvable(key: DirectiveNode): DirectiveNode {
  return { ...key, arguments: key.arguments?.filter((argument) => argument.name.value !== 'resolvable') };
}

export function toFederation1(sdlBySubgraph: Readonly<Record<string, string>>): Record<string, string> {
  const documents = Object.entries(sdlBySubgraph).map(([name, sdl]) => [name, parse(sdl)] as const);
  // Each entity's owner: the subgraph that defines the most fields of it.
  const owners = new Map<string, { subgraph: string; fields: number }>();
  for (const [name, document] of documents)
    for (const definition of document.definitions)
      if (definition.kind === Kind.OBJECT_TYPE_DEFINITION && keyOf(definition)) {
        const fields = definition.fields?.length ?? 0;
        const owner = owners.get(definition.name.value);
        if (!owner || fields > owner.fields) owners.set(definition.name.value, { subgraph: name, fields });
      }
  return Object.fromEntries(
    documents.map(([name, document]) => {
      const definitions: DefinitionNode[] = [];
      for (const definition of document.definitions) {
        if (definition.kind === Kind.SCHEMA_EXTENSION || definition.kind === Kind.SCHEMA_DEFINITION) continue;
        if (definition.kind === Kind.DIRECTIVE_DEFINITION) continue;
        if ('name' in definition && definition.name && isFederationMachinery(definition.name.value)) continue;
        const stripped = stripDirectives(definition);
        if (stripped.kind !== Kind.OBJECT_TYPE_DEFINITION) {
          definitions.push(stripped);
          continue;
        }
        const key = keyOf(definition as ObjectTypeDefinitionNode);
        const typeName = stripped.name.value;
        const extended = ROOTS.has(typeName) || (key && owners.get(typeName)?.subgraph !== name);
        if (!extended) {
          definitions.push({ ...stripped, directives: key ? [withoutResolvable(key)] : [] });
          continue;
        }
        const keyFields = new Set(
          key ? String((key.arguments?.find((a) => a.name.value === 'fields')?.value as { value?: string })?.value ?? '').split(/\s+/) : [],
        );
        definitions.push({
          ...stripped,
          kind: Kind.OBJECT_TYPE_EXTENSION,
          directives: key ? [withoutResolvable(key)] : [],
          fields: stripped.fields?.map((field) =>
            keyFields.has(field.name.value)
              ? { ...field, directives: [{ kind: Kind.DIRECTIVE, name: { kind: Kind.NAME, value: 'external' } }] }
              : field,
          ),
        } as DefinitionNode);
      }
      return [name, print({ kind: Kind.DOCUMENT, definitions })];
    }),
  );
}

/** The definition without any directive but @key on it, on its fields, their arguments or its input fields. */
function stripDirectives<T extends DefinitionNode>(definition: T): T {
  const keep = (directives?: readonly DirectiveNode[]) => directives?.filter((directive) => directive.name.value === 'key');
  const node = { ...definition, directives: keep((definition as { directives?: readonly DirectiveNode[] }).directives) } as any;
  if (node.fields)
    node.fields = node.fields
      .filter((field: any) => !isFederationMachinery(field.name.value))
      .map((field: any) => ({
        ...field,
        directives: [],
        ...(field.arguments ? { arguments: field.arguments.map((argument: any) => ({ ...argument, directives: [] })) } : {}),
      }));
  if (node.values) node.values = node.values.map((value: any) => ({ ...value, directives: [] }));
  return node;
}
