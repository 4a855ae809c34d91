/**
 * The scenarios of the benchmark's table (BENCH_SCENARIOS picks some by letter), the gateway processes behind them,
 * and how each one's requests for a query shape are sent.
 */
import { CONTEXT_HEADER } from '../auth';
import { BENCH_ROLE_HEADER, type BenchRole } from './servers/fixedIdentity';
import type { QueryShape } from './shapes';

export const SCENARIOS = {
  a: '(a) users subgraph directly',
  b: '(b) stock Apollo Gateway, no auth',
  c: '(c) Gatehouse, auth off',
  d: '(d) Gatehouse, full auth, one warm token',
  e: '(e) Gatehouse, full auth, a new token per request',
  f: '(f) Hive Gateway, no auth',
  g: '(g) Hive Gateway, JWT plugin',
  h: '(h) @mercuriusjs/gateway, no auth',
} as const;
export type ScenarioLetter = keyof typeof SCENARIOS;

/**
 * Every gateway process, each on core 0: its server and mode. `gatehouse-e` serves (e) alone (its full token cache
 * never weighs on (d)); `gatehouse-b` is the second instance of the revocation-lag measurement; Gatehouse with token
 * checks off signs one identity per process, so the list page's manager has a process of its own.
 */
export const GATEWAY_PROCESSES = {
  stock: ['bench/servers/gateway.ts', 'stock'],
  'gatehouse-noauth': ['bench/servers/gateway.ts', 'gatehouse-noauth'],
  'gatehouse-noauth-manager': ['bench/servers/gateway.ts', 'gatehouse-noauth-manager'],
  gatehouse: ['bench/servers/gateway.ts', 'gatehouse'],
  'gatehouse-e': ['bench/servers/gateway.ts', 'gatehouse'],
  'gatehouse-b': ['bench/servers/gateway.ts', 'gatehouse'],
  hive: ['bench/servers/hiveGateway.ts', 'hive'],
  'hive-jwt': ['bench/servers/hiveGateway.ts', 'hive-jwt'],
  mercurius: ['bench/servers/mercuriusGateway.ts', 'mercurius'],
} as const;
export type GatewayProcess = keyof typeof GATEWAY_PROCESSES;

/** The gateway process a scenario sends a shape to; undefined for (a), which calls the users subgraph itself. */
export function gatewayOf(letter: ScenarioLetter, shape: QueryShape): GatewayProcess | undefined {
  const byLetter: Record<ScenarioLetter, GatewayProcess | undefined> = {
    a: undefined,
    b: 'stock',
    c: shape.role === 'MANAGER' ? 'gatehouse-noauth-manager' : 'gatehouse-noauth',
    d: 'gatehouse',
    e: 'gatehouse-e',
    f: 'hive',
    g: 'hive-jwt',
    h: 'mercurius',
  };
  return byLetter[letter];
}

export interface RequestMaterial {
  /** A warm access token of each role (logged in through Gatehouse). */
  tokens: Record<BenchRole, string>;
  /** For (a): the context signed for the users subgraph and this shape's body. */
  directContext: () => string;
  /** For (e): the file of new tokens this window sends, each once. */
  newTokens: () => { tokensFile: string };
}

/** The load generator's options (headers, tokens) for a scenario's requests of a shape. */
export function requestOptions(letter: ScenarioLetter, shape: QueryShape, material: RequestMaterial): Record<string, unknown> {
  switch (letter) {
    case 'a':
      return { headers: { [CONTEXT_HEADER]: material.directContext() } };
    case 'd':
    case 'g':
      return { headers: { authorization: `Bearer ${material.tokens[shape.role]}` } };
    case 'e':
      return material.newTokens();
    case 'c':
      return {};
    default:
      // The gateways without token checks sign the member unless told otherwise (one and hop send what they always did).
      return shape.role === 'MEMBER' ? {} : { headers: { [BENCH_ROLE_HEADER]: shape.role } };
  }
}
