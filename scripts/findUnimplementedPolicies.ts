import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { isCallerPolicy, type ObjectPolicy } from '../auth';
import type { SubgraphSchema } from './composition';
import { namesInDirectives } from './findRequirementProblems';
import { problemAt, type SchemaProblem } from './schemaProblem';

/** A subgraph's object policies (the `policies` export of policies.ts beside its schema), or why they cannot be had. */
export type LoadedPolicies = { policies: Readonly<Record<string, ObjectPolicy>> } | { problem: string };

/** The file a subgraph implements its object policies in: policies.ts beside its schema.graphql (the scaffold's layout). */
export const policiesFileOf = (schemaFile: string) => join(dirname(schemaFile), 'policies.ts');

/**
 * Imports a subgraph's policies.ts as its start-up does (subgraph.ts passes its `policies` to buildSubgraph). Importing
 * it defines functions and starts nothing; its own imports (resolvers, data) load as they would at start-up.
 */
export async function loadObjectPolicies(schemaFile: string): Promise<LoadedPolicies> {
  const file = policiesFileOf(schemaFile);
  const shown = relative(process.cwd(), file);
  if (!existsSync(file)) return { problem: `${shown} does not exist` };
  try {
    const loaded = (await import(file)) as { policies?: unknown; default?: { policies?: unknown } };
    const policies = loaded.policies ?? loaded.default?.policies;
    if (!policies || typeof policies !== 'object') return { problem: `${shown} exports no \`policies\` object` };
    return { policies: policies as Record<string, ObjectPolicy> };
  } catch (error) {
    return { problem: `${shown} does not load (${(error as Error).message.split('\n')[0]})` };
  }
}

/**
 * Each object policy a subgraph's SDL names (`@policy`, other than `step_up` and `scope:…`) that its policies.ts does
 * not implement, at the place it is named. The same test as start-up's (createSchemaPermissions refuses to build the
 * subgraph's schema): an own property that is a function. policies.ts is loaded only when the SDL names one.
 */
export async function findUnimplementedPolicies(
  schema: SubgraphSchema,
  load: (schemaFile: string) => Promise<LoadedPolicies> = loadObjectPolicies,
): Promise<SchemaProblem[]> {
  const named = namesInDirectives(schema.document).filter((entry) => entry.directive === 'policy' && !isCallerPolicy(entry.name));
  if (!named.length) return [];
  const loaded = await load(schema.schemaFile);
  const shown = relative(process.cwd(), policiesFileOf(schema.schemaFile));
  return named.flatMap(({ name, node, coordinate }) => {
    if ('policies' in loaded && Object.hasOwn(loaded.policies, name) && typeof loaded.policies[name] === 'function') return [];
    const why = 'problem' in loaded ? loaded.problem : `${shown} does not implement it`;
    return [
      problemAt(
        node,
        'unimplemented-policy',
        `${coordinate} names the object policy "${name}", but ${why}: the ${schema.name} subgraph would refuse to start. Implement it in \`policies\` of ${shown}, or fix the name`,
      ),
    ];
  });
}
