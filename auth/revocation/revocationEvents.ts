/**
 * What the auth service publishes when sessions end early, and every gateway applies. Shared by the publisher,
 * the buses and the gateway's set, so both sides read one format.
 */
export type RevocationEvent =
  | {
      /** These sessions (a logout, a user's sessions, a refresh-token family) are over. */
      kind: 'sessions';
      tenantId: string;
      sessionIds: string[];
      reason: string;
      /** When it was published, in ms since the epoch (for the lag metric). */
      at: number;
      /** After this (ms), every token it covers has expired and the entry can be forgotten. */
      forgetAt: number;
    }
  | {
      /** Every token of the tenant issued at or before `issuedBefore` (seconds) is over. */
      kind: 'tenant';
      tenantId: string;
      issuedBefore: number;
      reason: string;
      at: number;
      forgetAt: number;
    };

export interface RevocationSubscription {
  close(): Promise<void>;
}

export type BusState = 'live' | 'down';

export interface RevocationBus {
  /** Appends an event durably; rejects when it cannot (the caller must not report success). */
  publish(event: RevocationEvent): Promise<void>;
  /**
   * Replays every retained event published at or after `sinceMs`, then delivers new ones as they come, resuming
   * where it left off after a reconnect. `onState` reports whether the bus is reachable: `live` only once the replay
   * has been delivered.
   */
  subscribe(sinceMs: number, onEvent: (event: RevocationEvent) => void, onState?: (state: BusState) => void): RevocationSubscription;
  close(): Promise<void>;
}

const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 200;

/** Parses an event from the wire; undefined for anything malformed (never trusted blindly). */
export function decodeRevocationEvent(text: string): RevocationEvent | undefined {
  try {
    return toRevocationEvent(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function toRevocationEvent(parsed: unknown): RevocationEvent | undefined {
  const value = parsed as Record<string, unknown> | null;
  if (
    !value ||
    typeof value !== 'object' ||
    !isString(value.tenantId) ||
    typeof value.at !== 'number' ||
    typeof value.forgetAt !== 'number' ||
    !isString(value.reason)
  ) {
    return undefined;
  }
  if (value.kind === 'sessions' && Array.isArray(value.sessionIds) && value.sessionIds.every(isString)) return value as RevocationEvent;
  if (value.kind === 'tenant' && typeof value.issuedBefore === 'number') return value as RevocationEvent;
  return undefined;
}

/**
 * The response header in which the auth subgraph announces the revocations it has just committed, so that the
 * gateway carrying the request applies them before its next request, without waiting for the bus.
 */
export const REVOCATIONS_HEADER = 'gatehouse-revocations';

/** The value of REVOCATIONS_HEADER for these events. */
export function encodeAnnouncedRevocations(events: RevocationEvent[]): string {
  return JSON.stringify(events);
}

/** The well-formed events of a REVOCATIONS_HEADER value; malformed entries (or a malformed header) are dropped. */
export function decodeAnnouncedRevocations(header: string): RevocationEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.map(toRevocationEvent).filter((event): event is RevocationEvent => event !== undefined);
}
