/**
 * The figures against issue 18's targets as medians over several runs of `npm run bench` (each run's figure is
 * already the median over its rounds), printed as the Markdown table the README carries.
 *
 *   node --import tsx bench/summariseRuns.ts [results/<time>.json …]   (default: the three newest results)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { median } from './summariseRounds';

interface Spread {
  median: number;
}
interface Result {
  code?: { commit: string; modified: boolean };
  settings: { runs: number };
  medians: Array<{ query: string; scenario: string; gatewayCpuMsPerRequest?: number; sqlStatementsPerRequest?: number }>;
  ratios: Array<{ query: string } & Record<string, Spread | string>>;
  listToOneCpu: Array<{ query: string; scenario: string; median: number }>;
  revocationLagMs?: { p99: number };
  gatewayRssMbAfterDistinctTokens?: number;
  distinctTokens?: number;
  kidFlood?: { jwksFetchesForUnknownKids: number; allowedByCooldown: number; validShareDuringFlood?: Spread };
}

const resultsDir = resolve(__dirname, 'results');
const files = process.argv.slice(2).length
  ? process.argv.slice(2).map((file) => resolve(file))
  : readdirSync(resultsDir)
      // Full runs only (BENCH_ONLY=subscriptions writes <time>-subscriptions.json).
      .filter((file) => file.endsWith('.json') && !file.endsWith('-subscriptions.json'))
      .sort()
      .slice(-3)
      .map((file) => join(resultsDir, file));
const runs = files.map((file) => JSON.parse(readFileSync(file, 'utf8')) as Result);

const D = '(d) Gatehouse, full auth, one warm token';
const H = '(h) @mercuriusjs/gateway, no auth';
const SHAPES = ['one subgraph', '_entities hop', 'list page, 20'];

/** The median over the runs of one figure, with each run's value; undefined where no run has it. */
function acrossRuns(pick: (run: Result) => number | undefined) {
  const values = runs.map(pick).filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
  return values.length ? { median: median(values), values } : undefined;
}
const ratio = (query: string, key: string) =>
  acrossRuns((run) => (run.ratios.find((entry) => entry.query === query)?.[key] as Spread | undefined)?.median);
const fmt = (figure: ReturnType<typeof acrossRuns>, digits = 2) =>
  figure ? `${figure.median.toFixed(digits)} (${figure.values.map((value) => value.toFixed(digits)).join(', ')})` : '–';

const rows: Array<[string, string[], string]> = [
  ["d/h: Gatehouse with auth against mercurius's gateway without", SHAPES.map((shape) => fmt(ratio(shape, 'd/h'))), '≥ 1'],
  ['d/b: against stock Apollo Gateway', SHAPES.map((shape) => fmt(ratio(shape, 'd/b'))), '≥ 3.5'],
  ['d/g: against Hive Gateway with its JWT plugin', SHAPES.map((shape) => fmt(ratio(shape, 'd/g'))), '≥ 4'],
  [
    'e/d: a new token on every request',
    SHAPES.slice(0, 2)
      .map((shape) => fmt(ratio(shape, 'e/d')))
      .concat('–'),
    '≥ 0.85',
  ],
  ['d/c: what auth costs with a warm token', SHAPES.map((shape) => fmt(ratio(shape, 'd/c'))), '≥ 0.95'],
  [
    'gateway CPU ms per request, (d) / (h)',
    SHAPES.map((shape) => {
      const cpu = (scenario: string) =>
        acrossRuns((run) => run.medians.find((row) => row.query === shape && row.scenario === scenario)?.gatewayCpuMsPerRequest);
      return `${fmt(cpu(D))} / ${cpu(H)?.median.toFixed(2) ?? '–'}`;
    }),
    '(d) ≤ (h)',
  ],
  [
    'SQL statements per request, (d)',
    ['one subgraph', '_entities hop', 'list page, 20'].map((shape) =>
      fmt(
        acrossRuns((run) => run.medians.find((row) => row.query === shape && row.scenario === D)?.sqlStatementsPerRequest),
        0,
      ),
    ),
    `independent of page size (page of 5: ${fmt(
      acrossRuns((run) => run.medians.find((row) => row.query === 'list page, 5' && row.scenario === D)?.sqlStatementsPerRequest),
      0,
    )})`,
  ],
  [
    'list page CPU ÷ one-subgraph CPU, (d)',
    ['', '', fmt(acrossRuns((run) => run.listToOneCpu.find((row) => row.query === 'list page, 20' && row.scenario === D)?.median))],
    '≤ 3',
  ],
];

console.log(`Runs: ${files.map((file) => basename(file)).join(', ')}`);
console.log(
  `Commits: ${[...new Set(runs.map((run) => (run.code ? `${run.code.commit.slice(0, 7)}${run.code.modified ? ' (modified)' : ''}` : 'unknown')))].join(', ')}; rounds per run: ${runs.map((run) => run.settings.runs).join(', ')}`,
);
console.log('\n| Median over the runs (each run) | one subgraph | `_entities` hop | list page, 20 | target |');
console.log('| --- | ---: | ---: | ---: | --- |');
for (const [name, cells, target] of rows) console.log(`| ${name} | ${cells.join(' | ')} | ${target} |`);
console.log(
  `\nRevocation lag p99, ms: ${fmt(
    acrossRuns((run) => run.revocationLagMs?.p99),
    1,
  )} (target ≤ 100)`,
);
console.log(
  `Gateway RSS after ${runs[0]?.distinctTokens ?? '?'} distinct tokens, MB: ${fmt(
    acrossRuns((run) => run.gatewayRssMbAfterDistinctTokens),
    0,
  )}`,
);
console.log(
  `kid flood: JWKS fetches for unknown kids ${runs.map((run) => `${run.kidFlood?.jwksFetchesForUnknownKids ?? '?'}/${run.kidFlood?.allowedByCooldown ?? '?'}`).join(', ')} (fetched/allowed); valid traffic during the flood ${fmt(acrossRuns((run) => run.kidFlood?.validShareDuringFlood?.median))}`,
);
