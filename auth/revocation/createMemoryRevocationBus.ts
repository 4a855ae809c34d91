import type { BusState, RevocationBus, RevocationEvent } from './revocationEvents';

/**
 * The embedded default: revocations within one process (`npm start` runs the auth service and the gateway
 * together). Keeps events for `retentionMs` so a late subscriber catches up, like the Redis stream.
 */
export function createMemoryRevocationBus(options: { retentionMs?: number; now?: () => number } = {}): RevocationBus {
  const retentionMs = options.retentionMs ?? 3_600_000;
  const now = options.now ?? Date.now;
  let history: RevocationEvent[] = [];
  const listeners = new Set<(event: RevocationEvent) => void>();
  return {
    async publish(event) {
      history = history.filter((kept) => kept.at >= now() - retentionMs);
      history.push(event);
      for (const listener of listeners) listener(event);
    },
    subscribe(sinceMs, onEvent, onState?: (state: BusState) => void) {
      for (const event of history) if (event.at >= sinceMs) onEvent(event);
      listeners.add(onEvent);
      onState?.('live');
      return {
        async close() {
          listeners.delete(onEvent);
        },
      };
    },
    async close() {
      listeners.clear();
    },
  };
}
