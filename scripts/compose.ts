/**
 * npm run schema:check   (CI) exits 1 naming each problem at its place, `file:line:column: message`, all in one run:
 *                        a schema that does not parse, a field without an authorization requirement, a scope no role
 *                        grants, an enum Role unlike roles.yaml, an object policy policies.ts does not implement, a
 *                        non-null field a caller served its parent may be refused, a composition error, a stale
 *                        permissions.md (who may reach which field changed: npm run docs) or a stale supergraph.graphql.
 * npm run compose        runs the same schema checks (not the two staleness ones) and writes supergraph.graphql only
 *                        when there is no problem: a gateway must never load a field nobody ruled.
 * Options: --config <path> another supergraph.yaml (roles.yaml and the output beside it); --json the problems as JSON
 * on stdout. Exit 0 clean, 1 problems found, 2 usage errors or a supergraph.yaml that cannot be read.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { checkSupergraph, type SupergraphCheck } from './checkSupergraph';
import { diffMatrix, buildPermissionMatrix, renderSubgraphMatrixFile, requirementsOf, tableOf } from './permissionMatrix';
import { formatProblem, type SchemaProblem } from './schemaProblem';

const USAGE = 'usage: tsx scripts/compose.ts [--check] [--json] [--config <supergraph.yaml>]';

function parseArguments(argv: string[]): { check: boolean; json: boolean; configPath: string } | { usage: string } {
  const options = { check: false, json: false, configPath: resolve(__dirname, '..', 'supergraph.yaml') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--check') options.check = true;
    else if (argv[i] === '--json') options.json = true;
    else if (argv[i] === '--config' && argv[i + 1] && !argv[i + 1].startsWith('--')) options.configPath = resolve(argv[++i]);
    else return { usage: argv[i] === '--config' ? '--config needs a path' : `unknown option ${argv[i]}` };
  }
  return options;
}

/** Stale generated files: each subgraph's permissions.md (with the rows that changed), then supergraph.graphql. */
async function findStaleFiles(result: SupergraphCheck, outputPath: string): Promise<SchemaProblem[]> {
  const problems: SchemaProblem[] = [];
  if (result.roles) {
    const subgraphs = result.schemas.map((schema) => requirementsOf(schema.name, schema.schemaFile, schema.document));
    const { rows, columns } = buildPermissionMatrix(subgraphs, result.roles);
    for (const subgraph of subgraphs) {
      const committed = await readFile(subgraph.matrixFile!, 'utf8').catch(() => '');
      const current = renderSubgraphMatrixFile(subgraph.name, rows, columns);
      if (committed === current) continue;
      problems.push({
        file: relative(process.cwd(), subgraph.matrixFile!),
        rule: 'stale-matrix',
        message: `who may reach which field of ${subgraph.name} has changed (- as documented, + as the schema and roles.yaml now say): run \`npm run docs\` and commit it`,
        detail: diffMatrix(tableOf(committed), tableOf(current)),
      });
    }
  }
  if (result.supergraphSdl !== undefined && (await readFile(outputPath, 'utf8').catch(() => '')) !== result.supergraphSdl) {
    problems.push({
      file: relative(process.cwd(), outputPath),
      rule: 'stale-supergraph',
      message: 'stale, not what supergraph.yaml composes to: run `npm run compose` and commit it',
    });
  }
  return problems;
}

function report(problems: SchemaProblem[], json: boolean, extra: Record<string, unknown>) {
  if (json) {
    console.log(JSON.stringify({ ok: problems.length === 0, problems, ...extra }, null, 2));
    return;
  }
  for (const problem of problems) {
    console.error(formatProblem(problem));
    for (const line of problem.detail ?? []) console.error(`  ${line}`);
  }
  if (problems.length) {
    const files = new Set(problems.map((problem) => problem.file)).size;
    console.error(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}.`);
  }
}

async function main(argv: string[]): Promise<number> {
  const options = parseArguments(argv);
  if ('usage' in options) {
    console.error(`${options.usage}\n${USAGE}`);
    return 2;
  }
  const outputPath = resolve(dirname(options.configPath), 'supergraph.graphql');
  let result: SupergraphCheck;
  try {
    result = await checkSupergraph(options.configPath);
  } catch (error) {
    // supergraph.yaml itself: missing, not YAML, or without its subgraphs.
    console.error((error as Error).message.split('\n')[0]);
    return 2;
  }
  if (options.check) {
    const problems = [...result.problems, ...(await findStaleFiles(result, outputPath))];
    report(problems, options.json, {});
    if (!problems.length && !options.json)
      console.log('Composition OK: every field ruled, every scope granted, every policy implemented, every file current.');
    return problems.length ? 1 : 0;
  }
  if (result.problems.length || result.supergraphSdl === undefined) {
    report(result.problems, options.json, { written: null });
    if (!options.json) console.error(`${relative(process.cwd(), outputPath)} not written.`);
    return 1;
  }
  await writeFile(outputPath, result.supergraphSdl);
  report([], options.json, { written: outputPath });
  if (!options.json) console.log(`Wrote ${outputPath}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message.split('\n')[0]);
    process.exit(1);
  },
);
