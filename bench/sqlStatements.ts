/**
 * Counts the SQL statements a request costs, from the subgraphs' counters (`gatehouse_sql_statements_total`, label
 * `service`) on their metrics endpoints: read before and after requests sent one at a time, the difference over their
 * number. Not around a load window itself: the requests still in flight when the load generator stops run their
 * statements without being counted as answered (on the list page, at 50 connections and tens of requests per second,
 * that would add a third). So after a window the counters are first left to settle (those requests finishing).
 */
const SERIES = /^gatehouse_sql_statements_total\{([^}]*)\}\s+([0-9.eE+-]+)/gm;

/** Statements so far per service, or undefined where no subgraph exposes the counter (not deployed there). */
export async function readSqlStatements(metricsUrls: Readonly<Record<string, string>>): Promise<Record<string, number> | undefined> {
  const counts: Record<string, number> = {};
  let found = false;
  for (const [subgraph, url] of Object.entries(metricsUrls)) {
    const text = await (await fetch(url)).text();
    for (const [, labels, value] of text.matchAll(SERIES)) {
      const service = /service="([^"]*)"/.exec(labels)?.[1] ?? subgraph;
      counts[service] = (counts[service] ?? 0) + Number(value);
      found = true;
    }
  }
  return found ? counts : undefined;
}

/**
 * Statements per request of `send` (one request each call), in total and per service: `count` requests one after
 * another between two readings. Undefined where the counter is missing.
 */
export async function countSqlPerRequest(
  metricsUrls: Readonly<Record<string, string>>,
  send: () => Promise<unknown>,
  count = 10,
): Promise<{ total: number; byService: Record<string, number> } | undefined> {
  let before = await readSqlStatements(metricsUrls);
  if (!before) return undefined;
  // Settled: unchanged over 300 ms (a request the load generator left behind takes well under that once alone).
  for (let i = 0; i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = (await readSqlStatements(metricsUrls))!;
    if (JSON.stringify(now) === JSON.stringify(before)) break;
    before = now;
  }
  for (let i = 0; i < count; i++) await send();
  const after = (await readSqlStatements(metricsUrls))!;
  const byService = Object.fromEntries(
    Object.entries(after).map(([service, total]) => [service, (total - (before[service] ?? 0)) / count]),
  );
  return { total: Object.values(byService).reduce((sum, value) => sum + value, 0), byService };
}
