/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time by where the code comes from, as shares of busy time
 * (idle excluded). Used by `npm run bench` with BENCH_PROFILE=1.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  hitCount: number;
  callFrame: { functionName: string; url: string };
}

const CATEGORIES: Array<[string, RegExp]> = [
  ['outbound HTTP (undici)', /node_modules\/undici\//],
  ['inbound HTTP (Fastify, find-my-way, light-my-request)', /node_modules\/(fastify|find-my-way|@fastify|avvio|light-my-request)\//],
  ["Apollo Server's request pipeline", /node_modules\/@apollo\/(server|utils)/],
  ['Apollo Gateway planner + executor', /node_modules\/@apollo\/(gateway|query-planner|federation-internals|composition)/],
  ['graphql-js', /node_modules\/graphql\//],
  ['graphql-armor', /node_modules\/@escape\.tech\//],
  ['tokens (jose, lru-cache)', /node_modules\/(jose|lru-cache)\//],
  ['metrics, logs, tracing', /node_modules\/(prom-client|pino|@opentelemetry)/],
  ['Gatehouse gateway + auth code', /\/(gateway|auth)\/[^/]+/],
  ['other dependencies', /node_modules\//],
  ['Node.js internals (net, http, streams, crypto)', /^node:|^internal\//],
];

export function summariseProfile(file: string): Array<{ where: string; share: number }> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  const totals = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)' || node.hitCount === 0) continue;
    const where =
      functionName === '(garbage collector)'
        ? 'garbage collection'
        : (CATEGORIES.find(([, pattern]) => pattern.test(url))?.[0] ?? (url ? 'other' : 'native / builtins'));
    totals.set(where, (totals.get(where) ?? 0) + node.hitCount);
    busy += node.hitCount;
  }
  return [...totals.entries()].map(([where, hits]) => ({ where, share: hits / busy })).sort((a, b) => b.share - a.share);
}
