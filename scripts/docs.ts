/** npm run docs: regenerates the permission matrix in docs/permissions.md from the subgraphs' rule trees. */
import { readFile, writeFile } from 'node:fs/promises';
import { buildPermissionMatrix, PERMISSION_MATRIX_FILE, renderPermissionMatrix, withMatrix } from './permissionMatrix';

async function main() {
  const { rows, missing } = buildPermissionMatrix();
  if (missing.length) console.warn(`Fields without a rule (denied to everyone):\n${missing.map((field) => `  - ${field}`).join('\n')}`);
  await writeFile(PERMISSION_MATRIX_FILE, withMatrix(await readFile(PERMISSION_MATRIX_FILE, 'utf8'), renderPermissionMatrix(rows)));
  console.log(`Updated the permission matrix in ${PERMISSION_MATRIX_FILE}`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
