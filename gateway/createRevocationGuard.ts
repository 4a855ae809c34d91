import {
  createRevocationSet,
  decodeAnnouncedRevocations,
  type BusState,
  type RevocationBus,
  type RevocationEvent,
  type RevocationSubscription,
} from '../auth';
import type { GatewayMetrics } from './metrics';

export type BusDownPolicy = 'accept' | 'refuse';

export interface RevocationGuardOptions {
  bus: RevocationBus;
  /** How far back to replay on start: at least the longest token lifetime. */
  retentionMs: number;
  /**
   * While the bus is unreachable for longer than `busDownGraceMs`, revocations may be missed: `accept` keeps
   * serving with the set held (availability), `refuse` answers 503 to token-bearing requests (strictness).
   */
  whenBusDown: BusDownPolicy;
  busDownGraceMs: number;
  metrics: GatewayMetrics;
  log: { warn(msg: string): void; info(msg: string): void };
  now?: () => number;
  /** How long `start` waits for the replay of retained revocations before serving without it; default 10 s. */
  catchUpTimeoutMs?: number;
}

/**
 * Keeps the gateway's revocation set current from the bus and answers, per request and without any network call,
 * whether a verified token's session is still alive.
 */
export function createRevocationGuard(options: RevocationGuardOptions) {
  const now = options.now ?? Date.now;
  const { metrics } = options;
  const listeners = new Set<(event: RevocationEvent) => void>();
  const set = createRevocationSet({
    now,
    onApplied: (event, lagMs) => {
      metrics.revocationLag.observe(lagMs / 1000);
      metrics.revokedEntries.set(set.size);
      for (const listener of listeners) listener(event);
    },
  });
  let subscription: RevocationSubscription | undefined;
  let downSince: number | undefined = now();
  let caughtUp!: () => void;
  const replayed = new Promise<void>((resolve) => (caughtUp = resolve));

  function onState(state: BusState) {
    metrics.revocationBusUp.set(state === 'live' ? 1 : 0);
    if (state === 'live') {
      caughtUp();
      if (downSince !== undefined) options.log.info('revocation bus live');
      downSince = undefined;
    } else if (downSince === undefined) {
      downSince = now();
      options.log.warn(`revocation bus unreachable; policy while down: ${options.whenBusDown}`);
    }
  }

  return {
    /**
     * Follows the bus, replaying what it retains. Resolves once the replay is applied — a gateway that served before
     * would accept tokens revoked before it started — or after `catchUpTimeoutMs` with the bus unreachable (then the
     * REVOCATION_WHEN_BUS_DOWN policy applies).
     */
    async start(): Promise<void> {
      subscription ??= options.bus.subscribe(now() - options.retentionMs, (event) => set.apply(event), onState);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), options.catchUpTimeoutMs ?? 10_000)));
      if (await Promise.race([replayed.then(() => false), timedOut])) {
        options.log.warn('revocation history not read at start; serving with what is held until the bus answers');
      }
      clearTimeout(timer);
    },
    /** 'revoked' for a revoked session; 'unavailable' when the policy refuses while the bus is down. */
    check(token: { sessionId: string; tenantId: string; issuedAt: number }): 'ok' | 'revoked' | 'unavailable' {
      if (set.isRevoked(token)) return 'revoked';
      if (options.whenBusDown === 'refuse' && downSince !== undefined && now() - downSince > options.busDownGraceMs) return 'unavailable';
      return 'ok';
    },
    /** Applies the revocations an auth subgraph response announced (the gateway that carried a logout). */
    applyAnnounced(header: string) {
      for (const event of decodeAnnouncedRevocations(header)) set.apply(event);
    },
    /** Calls `listener` with each revocation as it is applied (from the bus or announced), e.g. to end subscriptions. */
    onRevoked(listener: (event: RevocationEvent) => void): () => void {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    get size() {
      return set.size;
    },
    async close() {
      await subscription?.close();
      subscription = undefined;
    },
  };
}
export type RevocationGuard = ReturnType<typeof createRevocationGuard>;
