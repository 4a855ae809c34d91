import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { parseRoleTable, RoleTableError, type RoleTable } from '../auth';
import { composeSchemas, readSubgraphSchemas, rolesFileOf, type SubgraphSchema } from './composition';
import { findNonNullRefusals } from './findNonNullRefusals';
import { findRequirementProblems } from './findRequirementProblems';
import { findUnimplementedPolicies, loadObjectPolicies, type LoadedPolicies } from './findUnimplementedPolicies';
import { sortProblems, type SchemaProblem } from './schemaProblem';

export interface SupergraphCheck {
  /** The subgraphs whose schema parsed. */
  schemas: SubgraphSchema[];
  /** roles.yaml, when it is usable. */
  roles?: RoleTable;
  /** Every problem found, in file order. */
  problems: SchemaProblem[];
  /** The composed supergraph, when every schema parsed and composition succeeded. */
  supergraphSdl?: string;
}

/** roles.yaml, or one problem per thing wrong with it (parseRoleTable names them all). */
async function readRoles(configPath: string): Promise<{ roles: RoleTable } | { problems: SchemaProblem[] }> {
  const file = relative(process.cwd(), rolesFileOf(configPath));
  try {
    return { roles: parseRoleTable(await readFile(rolesFileOf(configPath), 'utf8'), file) };
  } catch (error) {
    if (!(error instanceof RoleTableError))
      return { problems: [{ file, rule: 'roles', message: `cannot be read (${(error as Error).message})` }] };
    const text = error.message.startsWith(`${file}:`) ? error.message.slice(file.length + 1) : error.message;
    const lines = text.split('\n').map((line) => line.replace(/^\s*-\s*/, '').trim());
    return { problems: lines.filter(Boolean).map((message) => ({ file, rule: 'roles', message })) };
  }
}

/**
 * Everything `npm run schema:check` and `npm run compose` refuse, each problem at its place and all of them in one run:
 * schemas that do not parse, fields without a requirement, scopes no role grants, an `enum Role` unlike roles.yaml,
 * object policies policies.ts does not implement, non-null fields a caller served their parent may be refused, and
 * composition errors (composition needs every schema to parse; the other checks run on each schema that does).
 */
export async function checkSupergraph(
  configPath: string,
  options: { overrides?: Record<string, string>; loadPolicies?: (schemaFile: string) => Promise<LoadedPolicies> } = {},
): Promise<SupergraphCheck> {
  const { entries, schemas, problems } = await readSubgraphSchemas(configPath, options.overrides);
  const roleFile = await readRoles(configPath);
  const roles = 'roles' in roleFile ? roleFile.roles : undefined;
  if ('problems' in roleFile) problems.push(...roleFile.problems);
  for (const schema of schemas) {
    problems.push(...findRequirementProblems(schema, roles));
    problems.push(...(await findUnimplementedPolicies(schema, options.loadPolicies ?? loadObjectPolicies)));
  }
  if (roles) problems.push(...findNonNullRefusals(schemas, roles));
  let supergraphSdl: string | undefined;
  if (schemas.length === entries.length) {
    const composed = composeSchemas(schemas);
    if (composed.ok) supergraphSdl = composed.supergraphSdl;
    else problems.push(...composed.problems);
  }
  return { schemas, roles, problems: sortProblems(problems), supergraphSdl };
}
