import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FormattedExecutionResult } from 'graphql';
import { Supergraph } from '@apollo/federation-internals';
import { loadRoleTable, type ContextUser, type Principal, type RevocationEvent } from '../../auth';
import { createSubscriptionHub } from '../../gateway/createSubscriptionHub';
import { createGatewayMetrics } from '../../gateway/metrics';
import { acknowledgeEnforcedFeatures } from '../../gateway/supergraphSource';
import { createMemoryEventBus } from '../../service/eventBus';
import { acme, globex } from '../helpers/tokens';

/*
 * The hub alone: which revocations end which connections, and what the subscriber is told. The lookups are counted,
 * not run (the e2e tests run them through a real gateway).
 */
const supergraphSdl = acknowledgeEnforcedFeatures(readFileSync(join(__dirname, '../../supergraph.graphql'), 'utf8'));
const apiSchema = Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
const roles = loadRoleTable(join(__dirname, '../../roles.yaml'));
const nowSeconds = () => Math.floor(Date.now() / 1000);

function caller(user: { id: string; role: string }, tenantId: string, issuedAt = nowSeconds() - 10) {
  const sessionId = crypto.randomUUID();
  const principal: Principal = {
    userId: user.id,
    tenantId,
    roles: [user.role],
    sessionId,
    tokenId: crypto.randomUUID(),
    issuer: 'test',
    issuedAt,
    expiresAt: nowSeconds() + 900,
  };
  const contextUser: ContextUser = { id: user.id, tenantId, roles: [user.role], scopes: roles.scopesOf([user.role]), sessionId };
  return { principal, user: contextUser };
}

function setUp() {
  const lookups: string[] = [];
  const hub = createSubscriptionHub({
    events: createMemoryEventBus(),
    limits: { perConnection: 10, perUser: 10, connectionsPerAddress: 10, queuedResults: 10 },
    validationRules: [],
    maxTokens: 2000,
    stepUpMaxAgeSeconds: 900,
    metrics: createGatewayMetrics(),
    log: { warn: () => undefined },
    async execute({ user }): Promise<FormattedExecutionResult> {
      lookups.push(user.id);
      return { data: { complaintUpdated: { id: 'x' } } };
    },
  });
  hub.setSchema(apiSchema, supergraphSdl);
  const open = (who: ReturnType<typeof caller>) => {
    const terminated: string[] = [];
    const connection = hub.connect({ transport: 'ws', address: '127.0.0.1', ...who, terminate: (reason) => terminated.push(reason) });
    const opened = hub.subscribe(connection, { query: 'subscription { complaintUpdated { id } }' });
    if ('errors' in opened) throw new Error(JSON.stringify(opened.errors));
    const results: any[] = [];
    const done = (async () => {
      for await (const result of opened.iterator) results.push(JSON.parse(JSON.stringify(result)));
    })();
    return { connection, results, done, terminated };
  };
  return { hub, open, lookups };
}

const revoke = (event: Record<string, unknown>): RevocationEvent =>
  ({ reason: 'test', at: Date.now(), forgetAt: Date.now() + 60_000, ...event }) as unknown as RevocationEvent;

describe('the subscription hub', () => {
  it('a tenant revocation ends the tenant connections whose tokens it covers, and no others', async () => {
    const { hub, open } = setUp();
    const before = open(caller(acme.users.agent, acme.id, nowSeconds() - 60));
    const after = open(caller(acme.users.manager, acme.id, nowSeconds() + 5));
    const otherTenant = open(caller(globex.users.agent, globex.id, nowSeconds() - 60));

    hub.onRevoked(revoke({ kind: 'tenant', tenantId: acme.id, issuedBefore: nowSeconds() }));
    await before.done;
    expect(before.results).toEqual([
      { errors: [{ message: 'The session has been revoked', extensions: { code: 'UNAUTHENTICATED', reason: 'token_revoked' } }] },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(before.terminated).toEqual(['token_revoked']);
    expect(after.connection.closed).toBe(false);
    expect(otherTenant.connection.closed).toBe(false);
    expect(hub.size).toEqual({ connections: 2, subscriptions: 2 });
  });

  it("a demotion (the user's sessions revoked, reason roles_changed) ends only that session's connection", async () => {
    const { hub, open } = setUp();
    const demoted = caller(acme.users.manager, acme.id);
    const mine = open(demoted);
    const colleague = open(caller(acme.users.agent, acme.id));
    hub.onRevoked(revoke({ kind: 'sessions', tenantId: acme.id, sessionIds: [demoted.principal.sessionId], reason: 'roles_changed' }));
    await mine.done;
    expect(mine.results.at(-1).errors[0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'token_revoked' });
    expect(colleague.connection.closed).toBe(false);
  });

  it("a re-authentication that loses the field's scope ends that subscription with FORBIDDEN, keeping the connection", async () => {
    const { hub, open } = setUp();
    const agent = caller(acme.users.agent, acme.id);
    const live = open(agent);
    const noScopes = caller(acme.users.agent, acme.id);
    expect(hub.reauthenticate(live.connection, noScopes.principal, { ...noScopes.user, scopes: [] })).toBe(true);
    await live.done;
    expect(live.results.at(-1).errors[0].extensions).toEqual({ code: 'FORBIDDEN', reason: 'missing_scope' });
    expect(live.connection.closed).toBe(false);
    expect(hub.reauthenticate(live.connection, caller(acme.users.member, acme.id).principal, noScopes.user)).toBe(false);
  });

  it('refuses a subscription the caller may not open, before anything is looked up', () => {
    const { hub, lookups } = setUp();
    const agent = caller(acme.users.agent, acme.id);
    const connection = hub.connect({
      transport: 'sse',
      address: '127.0.0.1',
      principal: agent.principal,
      user: { ...agent.user, scopes: [] },
      terminate: () => undefined,
    });
    const refused = hub.subscribe(connection, { query: 'subscription { complaintUpdated { id } }' });
    expect('errors' in refused && refused.errors.map((error) => error.extensions)).toEqual([
      { code: 'FORBIDDEN', reason: 'missing_scope' },
    ]);
    expect(hub.size.subscriptions).toBe(0);
    expect(lookups).toEqual([]);
  });

  it('refuses variables that are not an object, and a client variable named like the event id', () => {
    const { hub } = setUp();
    const agent = caller(acme.users.agent, acme.id);
    const connection = hub.connect({ transport: 'ws', address: '127.0.0.1', ...agent, terminate: () => undefined });
    const codes = (request: Record<string, unknown>) => {
      const refused = hub.subscribe(connection, request);
      return 'errors' in refused ? refused.errors.map((error) => error.extensions) : 'opened';
    };
    expect(codes({ query: 'subscription { complaintUpdated { id } }', variables: 'x' })).toEqual([
      { code: 'BAD_USER_INPUT', reason: 'invalid_variables' },
    ]);
    expect(codes({ query: 'subscription($__gatehouse_event_id: ID) { complaintUpdated(id: $__gatehouse_event_id) { id } }' })).toEqual([
      { code: 'BAD_USER_INPUT', reason: 'variable_reserved' },
    ]);
    expect(codes({ query: 'subscription { complaintUpdated { nope } }' })).toEqual([
      { code: 'GRAPHQL_VALIDATION_FAILED', reason: 'invalid_operation' },
    ]);
    expect(hub.size.subscriptions).toBe(0);
  });
});
