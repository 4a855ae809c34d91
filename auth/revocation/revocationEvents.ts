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
   * where it left off after a reconnect. `onState` reports whether the bus is reachable.
   */
  subscribe(sinceMs: number, onEvent: (event: RevocationEvent) => void, onState?: (state: BusState) => void): RevocationSubscription;
  close(): Promise<void>;
}

const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 200;

/** Parses an event from the wire; undefined for anything malformed (never trusted blindly). */
export function decodeRevocationEvent(text: string): RevocationEvent | undefined {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (
    !value ||
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
