/**
 * Summarises a V8 .cpuprofile: self time by where the code comes from, as shares of busy time (idle excluded).
 * Used by `npm run bench` for the profiled gateway and subgraphs (bench/servers/profileOnSignal.ts).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  hitCount: number;
  callFrame: { functionName: string; url: string };
}

const CATEGORIES: Array<[string, RegExp]> = [
  ['outbound HTTP (undici)', /node_modules\/undici\//],
  ['inbound HTTP (Fastify)', /node_modules\/(fastify|find-my-way|@fastify|avvio|light-my-request|secure-json-parse)\//],
  ["Apollo Server's request pipeline", /node_modules\/@apollo\/(server|utils)/],
  ['Apollo Gateway planner + executor', /node_modules\/@apollo\/(gateway|query-planner|federation-internals|composition)/],
  ['mercurius + @apollo/subgraph', /node_modules\/(mercurius|@apollo\/subgraph|graphql-jit|tiny-lru)\//],
  ['graphql-shield', /node_modules\/(graphql-shield|graphql-middleware|@graphql-tools)\//],
  ['Postgres client (pg)', /node_modules\/(pg|pg-[a-z]+|postgres-[a-z]+)\//],
  ['graphql-js', /node_modules\/graphql\//],
  ['graphql-armor', /node_modules\/@escape\.tech\//],
  ['tokens (jose, lru-cache)', /node_modules\/(jose|lru-cache)\//],
  ['metrics, logs, tracing', /node_modules\/(prom-client|pino|@opentelemetry)/],
  ['Gatehouse code', /^file:\/\/(?!.*node_modules).*\/(gateway|auth|subgraphs)\//],
  ['other dependencies', /node_modules\//],
  ['Node.js internals (net, http, streams, crypto)', /^node:|^internal\//],
];

export type ProfileSummary = Array<{ where: string; share: number }>;

export function summariseProfile(file: string): ProfileSummary {
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
