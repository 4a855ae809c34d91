/**
 * npm run compose        composes supergraph.yaml and writes supergraph.graphql
 * npm run schema:check   exits 1 when composition fails, the committed supergraph.graphql is stale, a field of a
 *                        subgraph has no permission rule, or docs/permissions.md is stale
 * Either takes --config <path> to use another supergraph.yaml (the output is written beside it).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { composeSupergraph } from './composition';
import {
  buildPermissionMatrix,
  diffMatrix,
  matrixSection,
  PERMISSION_MATRIX_FILE,
  renderPermissionMatrix,
  withMatrix,
} from './permissionMatrix';

const configFlag = process.argv.indexOf('--config');
const configPath = configFlag === -1 ? resolve(__dirname, '..', 'supergraph.yaml') : resolve(process.argv[configFlag + 1]);
const outputPath = resolve(dirname(configPath), 'supergraph.graphql');

async function main(check: boolean): Promise<number> {
  const result = await composeSupergraph(configPath);
  if (!result.ok) {
    console.error(`Composition failed (${result.errors.length} error${result.errors.length === 1 ? '' : 's'}):`);
    for (const error of result.errors) console.error(`  - ${error}`);
    return 1;
  }
  if (check) {
    const { rows, missing } = buildPermissionMatrix();
    if (missing.length) {
      console.error(`Fields without a permission rule (every field needs one; see README "Permissions"):`);
      for (const field of missing) console.error(`  - ${field}`);
      return 1;
    }
    const committedMatrix = await readFile(PERMISSION_MATRIX_FILE, 'utf8');
    const current = renderPermissionMatrix(rows);
    if (withMatrix(committedMatrix, current) !== committedMatrix) {
      console.error('Who may reach which field has changed (docs/permissions.md is stale: run `npm run docs` and commit the result):');
      for (const line of diffMatrix(matrixSection(committedMatrix), current)) console.error(`  ${line}`);
      return 1;
    }
    const committed = await readFile(outputPath, 'utf8').catch(() => '');
    if (committed !== result.supergraphSdl) {
      console.error('supergraph.graphql is stale: run `npm run compose` and commit the result.');
      return 1;
    }
    console.log('Composition OK and supergraph.graphql is current.');
    return 0;
  }
  await writeFile(outputPath, result.supergraphSdl);
  console.log(`Wrote ${outputPath}`);
  return 0;
}

main(process.argv.includes('--check')).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
