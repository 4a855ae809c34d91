/**
 * npm run docs: regenerates each subgraph's permissions.md (beside its schema.graphql) from the schema's authorization
 * directives and roles.yaml.
 */
import { writeFile } from 'node:fs/promises';
import { buildPermissionMatrix, readSubgraphRequirements, renderSubgraphMatrixFile } from './permissionMatrix';

async function main() {
  const subgraphs = readSubgraphRequirements();
  const { rows, missing, columns } = buildPermissionMatrix(subgraphs);
  if (missing.length)
    console.warn(`Fields without a requirement (refused to everyone):\n${missing.map((field) => `  - ${field}`).join('\n')}`);
  for (const subgraph of subgraphs) {
    await writeFile(subgraph.matrixFile!, renderSubgraphMatrixFile(subgraph.name, rows, columns));
    console.log(`Wrote ${subgraph.matrixFile}`);
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
