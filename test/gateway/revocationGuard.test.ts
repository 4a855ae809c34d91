import { createMemoryRevocationBus, type BusState, type RevocationBus, type RevocationEvent } from '../../auth';
import { createRevocationGuard } from '../../gateway/createRevocationGuard';
import { createGatewayMetrics } from '../../gateway/metrics';

const log = { warn: () => undefined, info: () => undefined };
const token = { sessionId: 's1', tenantId: 't1', issuedAt: 1000 };

/** A bus whose reachability the test controls. */
function controllableBus() {
  let report: ((state: BusState) => void) | undefined;
  const bus: RevocationBus = {
    publish: async () => undefined,
    subscribe: (_since, _onEvent, onState) => {
      report = onState;
      return { close: async () => undefined };
    },
    close: async () => undefined,
  };
  return { bus, setState: (state: BusState) => report?.(state) };
}

/** A guard on `bus` that accepts while the bus is down, with no grace, and what `overrides` change. */
const guardOn = (bus: RevocationBus, overrides: Partial<Parameters<typeof createRevocationGuard>[0]> = {}) =>
  createRevocationGuard({
    bus,
    retentionMs: 60_000,
    whenBusDown: 'accept',
    busDownGraceMs: 0,
    metrics: createGatewayMetrics(),
    log,
    ...overrides,
  });

describe('the gateway revocation guard', () => {
  it('starts only once the retained revocations are applied: a new gateway never accepts a token revoked before it', async () => {
    const revoked: RevocationEvent = {
      kind: 'sessions',
      tenantId: 't1',
      sessionIds: ['s1'],
      reason: 'logout',
      at: 0,
      forgetAt: Date.now() + 60_000,
    };
    // A bus that replays what it retains a moment later, as a Redis stream does.
    const bus: RevocationBus = {
      publish: async () => undefined,
      subscribe: (_since, onEvent, onState) => {
        setTimeout(() => {
          onEvent({ ...revoked, at: Date.now() });
          onState?.('live');
        }, 50);
        return { close: async () => undefined };
      },
      close: async () => undefined,
    };
    const guard = guardOn(bus);
    await guard.start();
    expect(guard.check(token)).toBe('revoked');
    await guard.close();
  });

  it('starts after a bounded wait when the bus does not answer, and says so', async () => {
    const { bus } = controllableBus();
    const warnings: string[] = [];
    const guard = guardOn(bus, {
      log: { warn: (message) => warnings.push(message), info: () => undefined },
      catchUpTimeoutMs: 100,
    });
    await guard.start();
    expect(warnings).toEqual(['revocation history not read at start; serving with what is held until the bus answers']);
    await guard.close();
  });

  it('refuses revoked sessions and tokens issued before a tenant-wide revocation, and nothing else', async () => {
    const bus = createMemoryRevocationBus();
    const guard = guardOn(bus);
    guard.start();
    const now = Date.now();
    const sessions: RevocationEvent = {
      kind: 'sessions',
      tenantId: 't1',
      sessionIds: ['s1'],
      reason: 'logout',
      at: now,
      forgetAt: now + 60_000,
    };
    await bus.publish(sessions);
    expect(guard.check(token)).toBe('revoked');
    expect(guard.check({ ...token, sessionId: 's2' })).toBe('ok');
    await bus.publish({ kind: 'tenant', tenantId: 't2', issuedBefore: 2000, reason: 'admin', at: now, forgetAt: now + 60_000 });
    expect(guard.check({ sessionId: 'x', tenantId: 't2', issuedAt: 2000 })).toBe('revoked');
    expect(guard.check({ sessionId: 'x', tenantId: 't2', issuedAt: 2001 })).toBe('ok');
    await guard.close();
  });

  it("with policy 'refuse', answers unavailable once the bus has been down longer than the grace; 'accept' keeps serving", () => {
    let now = 1_000_000;
    for (const whenBusDown of ['refuse', 'accept'] as const) {
      const { bus, setState } = controllableBus();
      const guard = createRevocationGuard({
        bus,
        retentionMs: 60_000,
        whenBusDown,
        busDownGraceMs: 5000,
        metrics: createGatewayMetrics(),
        log,
        now: () => now,
      });
      guard.start();
      setState('live');
      expect(guard.check(token)).toBe('ok');
      setState('down');
      now += 4000;
      expect(guard.check(token)).toBe('ok');
      now += 2000;
      expect(guard.check(token)).toBe(whenBusDown === 'refuse' ? 'unavailable' : 'ok');
      setState('live');
      expect(guard.check(token)).toBe('ok');
    }
  });

  it('applies what the auth subgraph announces with a logout, and ignores anything malformed', () => {
    const guard = createRevocationGuard({
      bus: createMemoryRevocationBus(),
      retentionMs: 60_000,
      whenBusDown: 'accept',
      busDownGraceMs: 0,
      metrics: createGatewayMetrics(),
      log,
    });
    guard.applyAnnounced('not json');
    guard.applyAnnounced(
      JSON.stringify([{ kind: 'sessions', tenantId: 't1', sessionIds: [42], reason: 'x', at: 1, forgetAt: Date.now() + 1000 }]),
    );
    expect(guard.check(token)).toBe('ok');
    guard.applyAnnounced(
      JSON.stringify([
        { kind: 'sessions', tenantId: 't1', sessionIds: ['s1'], reason: 'logout', at: Date.now(), forgetAt: Date.now() + 1000 },
      ]),
    );
    expect(guard.check(token)).toBe('revoked');
  });
});
