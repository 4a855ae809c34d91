import type { RevocationEvent } from './revocationEvents';

/**
 * The gateway's local view of revocations: plain maps, so the per-request check is two lookups and never a
 * network call. Entries are forgotten once every token they cover has expired, so memory stays bounded.
 */
export function createRevocationSet(options: { now?: () => number; onApplied?: (event: RevocationEvent, lagMs: number) => void } = {}) {
  const now = options.now ?? Date.now;
  const sessions = new Map<string, number>(); // session id → forgetAt (ms)
  const tenants = new Map<string, { issuedBefore: number; forgetAt: number }>();
  let lastPrune = 0;

  function prune() {
    const at = now();
    lastPrune = at;
    for (const [sessionId, forgetAt] of sessions) if (forgetAt <= at) sessions.delete(sessionId);
    for (const [tenantId, entry] of tenants) if (entry.forgetAt <= at) tenants.delete(tenantId);
  }

  return {
    apply(event: RevocationEvent) {
      if (event.forgetAt <= now()) return;
      if (event.kind === 'sessions') {
        for (const sessionId of event.sessionIds) sessions.set(sessionId, Math.max(sessions.get(sessionId) ?? 0, event.forgetAt));
      } else {
        const previous = tenants.get(event.tenantId);
        tenants.set(event.tenantId, {
          issuedBefore: Math.max(previous?.issuedBefore ?? 0, event.issuedBefore),
          forgetAt: Math.max(previous?.forgetAt ?? 0, event.forgetAt),
        });
      }
      options.onApplied?.(event, Math.max(0, now() - event.at));
      if (now() - lastPrune > 60_000) prune();
    },
    /** True when the token's session, or its tenant up to its issue time, has been revoked. */
    isRevoked(token: { sessionId: string; tenantId: string; issuedAt: number }): boolean {
      if (sessions.has(token.sessionId)) return true;
      const tenant = tenants.get(token.tenantId);
      return tenant !== undefined && token.issuedAt <= tenant.issuedBefore;
    },
    get size() {
      return sessions.size + tenants.size;
    },
    prune,
  };
}
export type RevocationSet = ReturnType<typeof createRevocationSet>;
