/**
 * npm run build: compiles the services (auth/, service/, gateway/, subgraphs/) to dist/ with tsc, then copies the
 * files they read beside their code at run time (each subgraph's schema.graphql and migrations/*.sql), so that
 * `node dist/gateway/main.js` and `node dist/subgraphs/<name>/main.js` run without TypeScript or the sources.
 * The launcher, scripts and tests stay TypeScript (tsx, jest): development tools, not part of what ships.
 * `--out-dir <dir>` builds elsewhere (a test builds into a directory of its own).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { extname, join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '..');
const outFlag = process.argv.indexOf('--out-dir');
const outDir = outFlag === -1 ? join(root, 'dist') : resolve(process.argv[outFlag + 1]);
const RUNTIME_ASSETS = new Set(['.graphql', '.sql']);

rmSync(outDir, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir], {
  stdio: 'inherit',
});

let copied = 0;
const copyAssets = (dir: string) => {
  for (const entry of readdirSync(join(root, dir))) {
    const path = join(dir, entry);
    if (statSync(join(root, path)).isDirectory()) copyAssets(path);
    else if (RUNTIME_ASSETS.has(extname(entry))) {
      cpSync(join(root, path), join(outDir, path));
      copied++;
    }
  }
};
copyAssets('subgraphs');
console.log(`Built ${relative(process.cwd(), outDir) || '.'}/ (${copied} schema and migration files copied beside the code).`);
