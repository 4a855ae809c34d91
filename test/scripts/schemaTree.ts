import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Helpers for the schema-check tests: the repository's schemas, edited, and the CLI run in a folder of them. */
export const root = resolve(__dirname, '../..');
export const SUBGRAPHS = ['auth', 'users', 'records', 'complaints'] as const;
export const sdlOf = (name: string) => readFile(join(root, 'subgraphs', name, 'schema.graphql'), 'utf8');

/** `line:column` of the first occurrence of `text` in `sdl` (1-based), as the check reports it. */
export function positionOf(sdl: string, text: string): string {
  const index = sdl.indexOf(text);
  if (index === -1) throw new Error(`not in the SDL: ${text}`);
  const before = sdl.slice(0, index).split('\n');
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

/** A policies.ts that needs no import, implementing `names`. */
export const policiesModule = (names: string[]) =>
  `export const policies = { ${names.map((name) => `${JSON.stringify(name)}: () => true`).join(', ')} };\n`;

/**
 * A copy of the repository's schema tree in a temporary folder: supergraph.yaml, roles.yaml, and per subgraph its
 * schema.graphql (edited by `edits`), permissions.md and a policies.ts implementing `owner` and `classification`.
 */
export async function makeSchemaTree(edits: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-schema-'));
  await copyFile(join(root, 'supergraph.yaml'), join(dir, 'supergraph.yaml'));
  await copyFile(join(root, 'roles.yaml'), join(dir, 'roles.yaml'));
  for (const name of SUBGRAPHS) {
    const folder = join(dir, 'subgraphs', name);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'schema.graphql'), edits[name] ?? (await sdlOf(name)));
    await copyFile(join(root, 'subgraphs', name, 'permissions.md'), join(folder, 'permissions.md'));
    await writeFile(join(folder, 'policies.ts'), policiesModule(['owner', 'classification']));
  }
  return dir;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `tsx scripts/compose.ts …args` in `cwd` (paths in its output are relative to it). */
export function runCompose(args: string[], cwd: string): Promise<Run> {
  return new Promise((done) =>
    execFile(
      process.execPath,
      [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'scripts/compose.ts'), ...args],
      { cwd },
      (error, stdout, stderr) => done({ code: error ? (error.code as number) : 0, stdout, stderr }),
    ),
  );
}
