/**
 * Benchmark: subscriptions on one gateway. SUBSCRIBERS graphql-ws connections (one subscription each; by default every
 * one with a token of its own, so no two share a lookup: the costly case) subscribe to `complaintUpdated`; events are put on
 * the Redis stream the complaints subgraph writes to, one at a time, and each subscriber's delivery is timed from the
 * event's publication. Then sessions are revoked on the revocation stream, one at a time, and each close is timed from
 * the revocation's publication (the bus hop included).
 */
import { readFileSync } from 'node:fs';
import { createClient, type Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import WebSocket from 'ws';
import { DEMO_TENANTS, demoId } from '../subgraphs/kit/demoTenants';

export interface SubscriptionBenchOptions {
  gatewayUrl: string;
  gatewayPid: number;
  redisUrl: string;
  /** A file of access tokens (one per line), each of its own session. */
  tokensFile: string;
  subscribers: number;
  /** Distinct tokens among the subscribers (round robin): fewer tokens, more subscribers share a lookup. */
  tokens: number;
  events: number;
  revocations: number;
  cpuMs(pid: number): number;
  rssMb(pid: number): number;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function measureSubscriptions(options: SubscriptionBenchOptions) {
  const acme = DEMO_TENANTS[0];
  const complaintId = demoId(acme, 2, 1);
  const minted = readFileSync(options.tokensFile, 'utf8').split('\n').filter(Boolean).slice(0, options.tokens);
  if (minted.length < options.tokens) throw new Error(`subscriptions: ${options.tokens} tokens needed, ${minted.length} minted`);
  const tokens = Array.from({ length: options.subscribers }, (_, i) => minted[i % minted.length]);
  const redis = new Redis(options.redisUrl);
  const url = options.gatewayUrl.replace(/^http/, 'ws');

  const deliveries = new Map<string, number[]>(); // event "at" → receive times
  const closes = new Map<string, number[]>(); // session id → when each of its sockets closed
  const clients: Client[] = [];
  let acked = 0;
  let subscribed = 0;
  for (const token of tokens) {
    const sessionId = decodeJwt(token).sid as string;
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => undefined,
      on: {
        connected: () => void (acked += 1),
        closed: () => void closes.set(sessionId, [...(closes.get(sessionId) ?? []), Date.now()]),
      },
    });
    clients.push(client);
    client.subscribe(
      { query: 'subscription { complaintUpdated { id status subject } }' },
      {
        next: (result) => {
          const at = (result.extensions as { event?: { at: string } } | undefined)?.event?.at;
          if (at) deliveries.set(at, [...(deliveries.get(at) ?? []), Date.now()]);
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
    subscribed += 1;
  }
  for (let i = 0; i < 600 && acked < subscribed; i += 1) await sleep(50);
  await sleep(500);
  const rssMb = options.rssMb(options.gatewayPid);

  // Events one after another: the next once every subscriber has the last (or after 10 s).
  const latencies: number[] = [];
  let delivered = 0;
  const cpuBefore = options.cpuMs(options.gatewayPid);
  for (let i = 0; i < options.events; i += 1) {
    const at = Date.now();
    const atIso = new Date(at).toISOString();
    const event = {
      topic: 'complaints',
      id: complaintId,
      tenantId: acme.id,
      audience: { userIds: [acme.users.member.id], scope: 'complaint:read:all' },
      change: 'STATUS_CHANGED',
      at,
    };
    await redis.xadd('gatehouse:events', '*', 'event', JSON.stringify(event));
    for (let wait = 0; wait < 1000 && (deliveries.get(atIso)?.length ?? 0) < subscribed; wait += 1) await sleep(10);
    const received = deliveries.get(atIso) ?? [];
    delivered += received.length;
    latencies.push(...received.map((time) => time - at));
    await sleep(2); // distinct timestamps
  }
  const cpuMsPerDelivery = (options.cpuMs(options.gatewayPid) - cpuBefore) / Math.max(1, delivered);

  // Revocations: each session's own event on the revocation stream; its socket must close.
  const closeLatencies: number[] = [];
  const revoked = minted.slice(0, options.revocations).map((token) => decodeJwt(token).sid as string);
  for (const sessionId of revoked) {
    const at = Date.now();
    const event = { kind: 'sessions', tenantId: acme.id, sessionIds: [sessionId], reason: 'logout', at, forgetAt: at + 3_600_000 };
    await redis.xadd('gatehouse:revocations', '*', 'event', JSON.stringify(event));
    // Every socket of the session (a token shared by several subscribers) must close; the last one counts.
    const sockets = tokens.filter((token) => decodeJwt(token).sid === sessionId).length;
    for (let wait = 0; wait < 500 && (closes.get(sessionId)?.length ?? 0) < sockets; wait += 1) await sleep(2);
    if ((closes.get(sessionId)?.length ?? 0) === sockets) closeLatencies.push(Math.max(...closes.get(sessionId)!) - at);
  }

  await Promise.all(clients.map((client) => client.dispose()));
  redis.disconnect();
  return {
    subscribers: subscribed,
    distinctTokens: minted.length,
    connected: acked,
    events: options.events,
    deliveries: delivered,
    expectedDeliveries: options.events * subscribed,
    deliveryMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) },
    gatewayRssMbWithSubscriptions: rssMb,
    gatewayCpuMsPerDelivery: cpuMsPerDelivery,
    revocationCloseMs: {
      p50: percentile(closeLatencies, 50),
      p99: percentile(closeLatencies, 99),
      max: Math.max(...closeLatencies),
      samples: closeLatencies.length,
      missed: revoked.length - closeLatencies.length,
    },
  };
}

/** One line for the console. */
export function describeSubscriptions(s: Awaited<ReturnType<typeof measureSubscriptions>>): string {
  return `Subscriptions: ${s.subscribers} on one gateway (${s.distinctTokens} tokens), ${s.events} events: ${s.deliveries}/${s.expectedDeliveries} delivered, p50 ${s.deliveryMs.p50} ms, p99 ${s.deliveryMs.p99} ms from publish; gateway ${s.gatewayCpuMsPerDelivery.toFixed(3)} ms CPU per delivery, RSS ${s.gatewayRssMbWithSubscriptions.toFixed(0)} MB; revocation to close p50 ${s.revocationCloseMs.p50} ms, p99 ${s.revocationCloseMs.p99} ms (${s.revocationCloseMs.samples} samples, ${s.revocationCloseMs.missed} missed)`;
}
