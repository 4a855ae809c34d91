import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Kind, parse, type DocumentNode } from 'graphql';
import {
  decide,
  loadRoleTable,
  readRequirements,
  scopesNamedBy,
  type Caller,
  type Decision,
  type Requirement,
  type RoleTable,
} from '../auth';
import { readSupergraphConfig, rolesFileOf, SUPERGRAPH_CONFIG } from './composition';

export interface SubgraphRequirements {
  name: string;
  /** Where its generated matrix lives: permissions.md beside its schema (the team's own folder). */
  matrixFile?: string;
  /** `Type.field` → requirement, in the SDL's order. */
  requirements: Map<string, Requirement>;
  /** The values of an `enum Role` the SDL declares (the roles it lets a client name), if it has one. */
  roleEnum?: string[];
}

/** The values of the SDL's `enum Role`, or undefined when it declares none. */
export function roleEnumOf(document: DocumentNode): string[] | undefined {
  const values = document.definitions
    .filter(
      (definition) =>
        (definition.kind === Kind.ENUM_TYPE_DEFINITION || definition.kind === Kind.ENUM_TYPE_EXTENSION) && definition.name.value === 'Role',
    )
    .flatMap((definition) => ('values' in definition ? (definition.values ?? []).map((value) => value.name.value) : []));
  return values.length ? values : undefined;
}

/** One subgraph's requirements, from its parsed SDL; its matrix goes beside `schemaFile`. */
export function requirementsOf(name: string, schemaFile: string, document: DocumentNode): SubgraphRequirements {
  return {
    name,
    matrixFile: resolve(dirname(schemaFile), 'permissions.md'),
    requirements: readRequirements(document),
    roleEnum: roleEnumOf(document),
  };
}

/** Every subgraph of supergraph.yaml with the requirements its SDL declares. Throws when an SDL does not parse. */
export function readSubgraphRequirements(configPath = SUPERGRAPH_CONFIG): SubgraphRequirements[] {
  return readSupergraphConfig(configPath).map((entry) =>
    requirementsOf(entry.name, entry.schemaFile, parse(readFileSync(entry.schemaFile, 'utf8'))),
  );
}

export interface MatrixRow {
  subgraph: string;
  field: string;
  /** One cell per column: anonymous, then each role of the roles file (least powerful first). */
  cells: string[];
}

const typeOrder = (type: string) => (type === 'Query' ? 0 : type === 'Mutation' ? 1 : 2);

/** What a requirement grants one caller: ✓, —, "own" (an object policy), and "+ 2FA" where a recent second factor is needed. */
export function grantOf(requirement: Requirement, caller: Omit<Caller, 'steppedUp'>): string {
  const render = (decision: Decision) =>
    decision.outcome === 'allow'
      ? '✓'
      : decision.outcome === 'object'
        ? decision.groups.map((group) => group.map((policy) => (policy === 'owner' ? 'own' : policy)).join(' & ')).join(' or ')
        : '—';
  const plain = decide(requirement, { ...caller, steppedUp: false });
  if (plain.outcome !== 'deny' || plain.code !== 'STEP_UP_REQUIRED') return render(plain);
  return `${render(decide(requirement, { ...caller, steppedUp: true }))} + 2FA`;
}

/**
 * The permission matrix, from the schemas' authorization directives and the roles file: one row per field of each
 * subgraph, one cell per caller (anonymous and each role). Also returns, by name only, fields without any requirement
 * and scopes no role grants (`npm run docs` warns of them; `npm run schema:check` places them: findRequirementProblems).
 */
export function buildPermissionMatrix(
  subgraphs: SubgraphRequirements[] = readSubgraphRequirements(),
  roles: RoleTable = loadRoleTable(rolesFileOf(SUPERGRAPH_CONFIG)),
): { rows: MatrixRow[]; missing: string[]; unknownScopes: string[]; roleMismatches: string[]; columns: string[] } {
  const rows: MatrixRow[] = [];
  const missing: string[] = [];
  const unknownScopes: string[] = [];
  const roleMismatches: string[] = [];
  const granted = new Set(roles.roles.flatMap((role) => roles.scopesOfRole(role)));
  const callers: Omit<Caller, 'steppedUp'>[] = [
    { authenticated: false, hasScope: () => false },
    ...roles.roles.map((role) => ({ authenticated: true, hasScope: (scope: string) => roles.scopesOfRole(role).includes(scope) })),
  ];
  for (const subgraph of subgraphs) {
    // A client names roles through the enum (setUserRoles, inviteUser): it must offer exactly the roles of the file.
    if (subgraph.roleEnum && [...subgraph.roleEnum].sort().join() !== [...roles.roles].sort().join()) {
      roleMismatches.push(`${subgraph.name}: enum Role has ${subgraph.roleEnum.join(', ')}; roles.yaml has ${roles.roles.join(', ')}`);
    }
    const fields = [...subgraph.requirements].sort(
      ([a], [b]) =>
        typeOrder(a.split('.')[0]) - typeOrder(b.split('.')[0]) ||
        (typeOrder(a.split('.')[0]) === 2 ? a.split('.')[0].localeCompare(b.split('.')[0]) : 0),
    );
    for (const [field, requirement] of fields) {
      if (!requirement.ruled) {
        missing.push(`${subgraph.name}: ${field}`);
        continue;
      }
      for (const scope of scopesNamedBy(requirement)) {
        if (!granted.has(scope)) unknownScopes.push(`${subgraph.name}: ${field} names "${scope}", which no role in roles.yaml grants`);
      }
      rows.push({ subgraph: subgraph.name, field, cells: callers.map((caller) => grantOf(requirement, caller)) });
    }
  }
  return { rows, missing, unknownScopes, roleMismatches, columns: ['anonymous', ...roles.roles] };
}

/** The matrix as Markdown, one table per subgraph. */
export function renderPermissionMatrix(rows: MatrixRow[], columns: string[]): string {
  const header = `| Field | ${columns.join(' | ')} |\n|${'---|'.repeat(columns.length + 1)}`;
  const sections: string[] = [];
  for (const name of [...new Set(rows.map((row) => row.subgraph))]) {
    const lines = rows.filter((row) => row.subgraph === name).map((row) => `| \`${row.field}\` | ${row.cells.join(' | ')} |`);
    sections.push(`**${name}**\n\n${header}\n${lines.join('\n')}`);
  }
  return sections.join('\n\n');
}

/** The whole generated permissions.md of one subgraph's folder. */
export function renderSubgraphMatrixFile(name: string, rows: MatrixRow[], columns: string[]): string {
  return `# Who may reach which field of the ${name} subgraph

Generated by \`npm run docs\` from this folder's schema.graphql and the repository's roles.yaml; do not edit.
\`npm run schema:check\` fails when it is stale. ✓ allowed · — refused · **own** only on the caller's own object ·
**+ 2FA** with a second factor proved within STEP_UP_MAX_AGE_SECONDS · another name: that object policy decides (see
README "Permissions").

${renderPermissionMatrix(
  rows.filter((row) => row.subgraph === name),
  columns,
)}
`;
}

/** The table part of a generated permissions.md (what diffMatrix compares). */
export const tableOf = (text: string) => text.slice(Math.max(0, text.indexOf('**'))).trim();

/**
 * A readable diff of two renderings: the rows that changed, under their subgraph, `-` as committed and `+` as the
 * code now says. A widened access shows up as a `+` row with more ✓ than its `-` row.
 */
export function diffMatrix(committed: string, current: string): string[] {
  const rowsOf = (text: string) => {
    const rows = new Map<string, string>();
    let subgraph = '';
    for (const line of text.split('\n')) {
      const heading = /^\*\*(\w+)\*\*$/.exec(line);
      if (heading) subgraph = heading[1];
      else if (line.startsWith('| `')) rows.set(`${subgraph} ${line.split('|')[1].trim()}`, line);
    }
    return rows;
  };
  const before = rowsOf(committed);
  const after = rowsOf(current);
  const lines: string[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    if (before.get(key) === after.get(key)) continue;
    lines.push(`${key.split(' ')[0]}:`);
    if (before.has(key)) lines.push(`  - ${before.get(key)}`);
    if (after.has(key)) lines.push(`  + ${after.get(key)}`);
  }
  return lines;
}
