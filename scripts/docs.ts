/** npm run docs: regenerates the permission matrix in docs/permissions.md from the schemas' authorization directives and
 * roles.yaml. */
import { readFile, writeFile } from 'node:fs/promises';
import { buildPermissionMatrix, PERMISSION_MATRIX_FILE, renderPermissionMatrix, withMatrix } from './permissionMatrix';

async function main() {
  const { rows, missing, columns } = buildPermissionMatrix();
  if (missing.length)
    console.warn(`Fields without a requirement (refused to everyone):\n${missing.map((field) => `  - ${field}`).join('\n')}`);
  await writeFile(
    PERMISSION_MATRIX_FILE,
    withMatrix(await readFile(PERMISSION_MATRIX_FILE, 'utf8'), renderPermissionMatrix(rows, columns)),
  );
  console.log(`Updated the permission matrix in ${PERMISSION_MATRIX_FILE}`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
