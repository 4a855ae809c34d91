/**
 * The scenario table's figures over the rounds: medians per query shape and scenario (throughput, latency, CPU per
 * request, SQL statements per request), the throughput ratios between scenarios and the list page's cost against the
 * one-subgraph query's. Each ratio is taken within a round (its two windows ran back to back, on the machine in one
 * state) and reported as the median over the rounds, with the lowest and highest round.
 */

/** One measured window. */
export interface Row {
  run: number;
  query: string;
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  tokensReused: number;
  gatewayCpuMsPerRequest?: number;
  subgraphsCpuMsPerRequest: number;
  /** Counted on requests sent one at a time after the window; undefined where the subgraphs expose no counter. */
  sqlStatementsPerRequest?: number;
  sqlStatementsPerRequestByService?: Record<string, number>;
}

/** The middle value; for an even count, the mean of the two middle ones (not the upper one, which would flatter). */
export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const medianOf = (values: Array<number | undefined>) => {
  const known = values.filter((value): value is number => value !== undefined && Number.isFinite(value));
  return known.length ? median(known) : undefined;
};
/** Median, lowest and highest of the rounds where the value is known; undefined when it is known in none. */
function spread(values: number[]) {
  const known = values.filter(Number.isFinite);
  return known.length ? { median: median(known), lowest: Math.min(...known), highest: Math.max(...known) } : undefined;
}
export type Spread = NonNullable<ReturnType<typeof spread>>;

/**
 * Every ratio to (a) and to (b), the two auth costs, and Gatehouse with full auth against each peer. (a) is measured
 * for the one-subgraph query only and stands for the hop too (the subgraph alone makes no hop).
 */
export const RATIOS = ['b/a', 'c/a', 'd/a', 'e/a', 'c/b', 'd/b', 'e/b', 'd/c', 'e/d', 'd/f', 'd/g', 'd/h'] as const;

export const rowOf = (round: Row[], query: string, letter: string) =>
  round.find((row) => row.query === query && row.scenario.startsWith(`(${letter})`));
/** Gateway + subgraphs CPU per request (ms): all of it on core 0. */
export const coreCpuOf = (round: Row[], query: string, letter: string) => {
  const row = rowOf(round, query, letter);
  return row ? (row.gatewayCpuMsPerRequest ?? NaN) + row.subgraphsCpuMsPerRequest : NaN;
};

export interface RoundQueries {
  /** The one-subgraph query's name: (a) stands for it, and the list pages are compared with it. */
  one: string;
  /** The queries that (a) is a baseline for. */
  directBaselineFor: string[];
  /** The list pages' names. */
  lists: string[];
}

export function summariseRounds(rows: Row[], runs: number, queries: RoundQueries) {
  const rounds = Array.from({ length: runs }, (_, i) => rows.filter((row) => row.run === i + 1));
  const queryNames = [...new Set(rows.map((row) => row.query))];
  const medians = [...new Set(rows.map((row) => `${row.query}|${row.scenario}`))].map((key) => {
    const [query, scenario] = key.split('|');
    const windows = rows.filter((row) => row.query === query && row.scenario === scenario);
    const services = [...new Set(windows.flatMap((row) => Object.keys(row.sqlStatementsPerRequestByService ?? {})))];
    return {
      query,
      scenario,
      rps: median(windows.map((row) => row.rps)),
      p50: median(windows.map((row) => row.p50)),
      p99: median(windows.map((row) => row.p99)),
      gatewayCpuMsPerRequest: medianOf(windows.map((row) => row.gatewayCpuMsPerRequest)),
      subgraphsCpuMsPerRequest: medianOf(windows.map((row) => row.subgraphsCpuMsPerRequest)),
      sqlStatementsPerRequest: medianOf(windows.map((row) => row.sqlStatementsPerRequest)),
      sqlStatementsPerRequestByService: Object.fromEntries(
        services.map((service) => [service, medianOf(windows.map((row) => row.sqlStatementsPerRequestByService?.[service]))]),
      ),
      rpsOfEachRun: windows.map((row) => Math.round(row.rps)),
    };
  });
  const rpsOf = (round: Row[], query: string, letter: string) =>
    letter === 'a' && !queries.directBaselineFor.includes(query)
      ? NaN
      : (rowOf(round, letter === 'a' ? queries.one : query, letter)?.rps ?? NaN);
  // Only the ratios measured in at least one round (the peers and the new shapes do not run in every scenario).
  const ratios = queryNames.map((query) => ({
    query,
    ...(Object.fromEntries(
      RATIOS.map((ratio) => [ratio, spread(rounds.map((round) => rpsOf(round, query, ratio[0]) / rpsOf(round, query, ratio[2])))]).filter(
        ([, value]) => value,
      ),
    ) as Partial<Record<(typeof RATIOS)[number], Spread>>),
  }));
  // The list page's core-0 CPU per request (gateway + subgraphs) over the one-subgraph query's, per scenario.
  const letters = [...new Set(rows.map((row) => row.scenario.slice(1, 2)))];
  const listToOneCpu = queries.lists.flatMap((list) =>
    letters.flatMap((letter) => {
      const value = spread(rounds.map((round) => coreCpuOf(round, list, letter) / coreCpuOf(round, queries.one, letter)));
      return value ? [{ query: list, scenario: rows.find((row) => row.scenario.startsWith(`(${letter})`))!.scenario, ...value }] : [];
    }),
  );
  return { rounds, medians, ratios, listToOneCpu };
}

const fixed = (value: number | undefined, digits = 2) => (value === undefined ? 'n/a' : value.toFixed(digits));
const range = ({ median: value, lowest, highest }: Spread) => `${value.toFixed(2)}  (${lowest.toFixed(2)}–${highest.toFixed(2)})`;

export function printRounds({ medians, ratios, listToOneCpu }: ReturnType<typeof summariseRounds>, runs: number): void {
  console.log(`\nMedians of ${runs} run(s):`);
  for (const row of medians) {
    const byService = Object.entries(row.sqlStatementsPerRequestByService)
      .filter(([, value]) => value)
      .map(([service, value]) => `${service} ${fixed(value, 1)}`)
      .join(', ');
    console.log(
      `${row.query.padEnd(14)} ${row.scenario.padEnd(50)} ${row.rps.toFixed(0).padStart(6)} req/s  p50 ${row.p50} ms  p99 ${row.p99} ms  cpu ${fixed(row.gatewayCpuMsPerRequest)} ms/req (subgraphs ${fixed(row.subgraphsCpuMsPerRequest)})  sql ${fixed(row.sqlStatementsPerRequest, 1)}/req${byService ? ` (${byService})` : ''}  runs ${row.rpsOfEachRun.join('/')}`,
    );
  }
  if (runs === 0) return;
  console.log('\nRatios, median over rounds (lowest–highest round):');
  for (const { query, ...values } of ratios) {
    console.log(`  ${query}`);
    for (const [name, value] of Object.entries(values)) console.log(`    ${name}  ${range(value)}`);
  }
  if (listToOneCpu.length) console.log('List page against one subgraph, core-0 CPU per request (gateway + subgraphs):');
  for (const row of listToOneCpu) console.log(`  ${row.query.padEnd(14)} ${row.scenario.padEnd(50)} ${range(row)}`);
}
