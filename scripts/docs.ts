/** npm run docs: regenerates the permission matrix in README.md from the subgraphs' rule trees. */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildPermissionMatrix, renderPermissionMatrix, withMatrix } from './permissionMatrix';

async function main() {
  const readmePath = resolve(__dirname, '..', 'README.md');
  const { rows, missing } = buildPermissionMatrix();
  if (missing.length) console.warn(`Fields without a rule (denied to everyone):\n${missing.map((field) => `  - ${field}`).join('\n')}`);
  await writeFile(readmePath, withMatrix(await readFile(readmePath, 'utf8'), renderPermissionMatrix(rows)));
  console.log(`Updated the permission matrix in ${readmePath}`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
