/**
 * npm run compose        composes supergraph.yaml and writes supergraph.graphql
 * npm run schema:check   exits 1, naming each problem, when: a schema does not parse (file:line:column), composition
 *                        fails, a field has no authorization requirement, a directive names a scope no role grants,
 *                        who may reach which field changed without its subgraph's permissions.md (npm run docs), or the
 *                        committed supergraph.graphql is stale. Every subgraph of supergraph.yaml is checked.
 * Either takes --config <path> to use another supergraph.yaml (the output is written beside it).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { loadRoleTable } from '../auth';
import { composeSupergraph, rolesFileOf } from './composition';
import { buildPermissionMatrix, diffMatrix, readSubgraphRequirements, renderSubgraphMatrixFile, tableOf } from './permissionMatrix';

const configFlag = process.argv.indexOf('--config');
const configPath = configFlag === -1 ? resolve(__dirname, '..', 'supergraph.yaml') : resolve(process.argv[configFlag + 1]);
const outputPath = resolve(dirname(configPath), 'supergraph.graphql');

function report(title: string, lines: string[]) {
  console.error(title);
  for (const line of lines) console.error(`  ${line}`);
}

async function check(): Promise<number> {
  const result = await composeSupergraph(configPath);
  if (!result.ok) {
    report(`Composition failed (${result.errors.length} error${result.errors.length === 1 ? '' : 's'}):`, result.errors);
    return 1;
  }
  let failed = false;
  const subgraphs = readSubgraphRequirements(configPath);
  const { rows, missing, unknownScopes, roleMismatches, columns } = buildPermissionMatrix(
    subgraphs,
    loadRoleTable(rolesFileOf(configPath)),
  );
  if (missing.length) {
    failed = true;
    report(
      'Fields without any authorization requirement (refused to everyone; add @public, @authenticated, @requiresScopes or @policy):',
      missing,
    );
  }
  if (unknownScopes.length) {
    failed = true;
    report('Scopes no role grants (add them to a role in roles.yaml, or fix the name):', unknownScopes);
  }
  if (roleMismatches.length) {
    failed = true;
    report('An enum Role that does not list the roles of roles.yaml:', roleMismatches);
  }
  for (const subgraph of subgraphs) {
    const committedMatrix = await readFile(subgraph.matrixFile!, 'utf8').catch(() => '');
    const current = renderSubgraphMatrixFile(subgraph.name, rows, columns);
    if (committedMatrix === current) continue;
    failed = true;
    report(
      `Who may reach which field of ${subgraph.name} has changed (- as documented, + as the schema and roles.yaml now say; run \`npm run docs\` and commit ${relative(process.cwd(), subgraph.matrixFile!)}):`,
      diffMatrix(tableOf(committedMatrix), tableOf(current)),
    );
  }
  const committed = await readFile(outputPath, 'utf8').catch(() => '');
  if (committed !== result.supergraphSdl) {
    failed = true;
    console.error('supergraph.graphql is stale: run `npm run compose` and commit the result.');
  }
  if (failed) return 1;
  console.log(`Composition OK, every field has a requirement, and supergraph.graphql and every permissions.md are current.`);
  return 0;
}

async function compose(): Promise<number> {
  const result = await composeSupergraph(configPath);
  if (!result.ok) {
    report(`Composition failed (${result.errors.length} error${result.errors.length === 1 ? '' : 's'}):`, result.errors);
    return 1;
  }
  await writeFile(outputPath, result.supergraphSdl);
  console.log(`Wrote ${outputPath}`);
  return 0;
}

(process.argv.includes('--check') ? check() : compose()).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
