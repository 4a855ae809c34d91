import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The gateway's Prometheus metrics, on a registry of its own (served at /metrics on METRICS_PORT). */
export function createGatewayMetrics() {
  const registry = new Registry();
  // Node.js's standard names (process_*, nodejs_*), which the usual dashboards expect, told apart by `service`.
  collectDefaultMetrics({ register: registry, labels: { service: 'gateway' } });
  return {
    registry,
    authOutcomes: new Counter({
      name: 'gatehouse_authentication_total',
      help: 'Requests by authentication outcome (ok, anonymous, or the refusal reason)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    tokenCache: new Counter({
      name: 'gatehouse_token_cache_total',
      help: 'Bearer tokens answered from the verified-token cache (hit) or verified (miss)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'gatehouse_rate_limited_total',
      help: 'Requests refused with 429, by limit',
      labelNames: ['scope'] as const,
      registers: [registry],
    }),
    subgraphCalls: new Histogram({
      name: 'gatehouse_subgraph_request_duration_seconds',
      help: 'Subgraph calls by subgraph and outcome (ok, graphql_errors, unavailable, refused, error)',
      labelNames: ['subgraph', 'outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [registry],
    }),
    requests: new Histogram({
      name: 'gatehouse_request_duration_seconds',
      help: 'GraphQL requests by operation name and HTTP status',
      labelNames: ['operation', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [registry],
    }),
    pipeline: new Counter({
      name: 'gatehouse_graphql_pipeline_total',
      help: "GraphQL requests past authentication by the path that answered them (lean, or apollo: Apollo Server's pipeline)",
      labelNames: ['path'] as const,
      registers: [registry],
    }),
    jwksFetches: new Counter({
      name: 'gatehouse_jwks_fetches_total',
      help: 'JWKS fetches by result and reason (load, refresh, unknown_kid: a token named a kid the gateway did not hold)',
      labelNames: ['result', 'reason'] as const,
      registers: [registry],
    }),
    jwksKeysSkipped: new Gauge({
      name: 'gatehouse_jwks_keys_skipped',
      help: "Keys left out of an issuer's current key set, by reason (the rest of the set is used)",
      labelNames: ['issuer', 'reason'] as const,
      registers: [registry],
    }),
    unknownRoles: new Counter({
      name: 'gatehouse_token_unknown_roles_total',
      help: 'Verified tokens that named a role Gatehouse does not have (the role was dropped)',
      registers: [registry],
    }),
    fieldRefusals: new Counter({
      name: 'gatehouse_field_refusals_total',
      help: 'Fields removed from operations before planning because the caller may not see them, by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    revocationLag: new Histogram({
      name: 'gatehouse_revocation_lag_seconds',
      help: 'Time from a revocation being published to this gateway applying it',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }),
    revocationBusUp: new Gauge({
      name: 'gatehouse_revocation_bus_up',
      help: '1 while the revocation bus is reachable',
      registers: [registry],
    }),
    revokedEntries: new Gauge({
      name: 'gatehouse_revocations_held',
      help: 'Revoked sessions and tenants held in memory',
      registers: [registry],
    }),
    subscriptionsActive: new Gauge({
      name: 'gatehouse_subscriptions_active',
      help: 'Subscriptions open on this instance, by transport',
      labelNames: ['transport'] as const,
      registers: [registry],
    }),
    subscriptionsEnded: new Counter({
      name: 'gatehouse_subscriptions_ended_total',
      help: 'Subscriptions this instance ended, by reason (complete: the client ended it)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    subscriptionEvents: new Counter({
      name: 'gatehouse_subscription_deliveries_total',
      help: 'Events for subscribers: delivered, or skipped (the lookup found nothing the subscriber may see)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    subscriptionLatency: new Histogram({
      name: 'gatehouse_subscription_delivery_seconds',
      help: 'Time from an event being published to its payload being handed to the subscriber transport',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
