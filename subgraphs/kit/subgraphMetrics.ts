import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One subgraph's Prometheus metrics, on a registry of its own (served at /metrics on METRICS_PORT). */
export function createSubgraphMetrics(subgraph: string) {
  const registry = new Registry();
  // Node.js's standard names (process_*, nodejs_*), which the usual dashboards expect, told apart by `service`.
  registry.setDefaultLabels({ subgraph });
  collectDefaultMetrics({ register: registry, labels: { service: subgraph } });
  return {
    registry,
    operations: new Histogram({
      name: 'gatehouse_subgraph_operation_duration_seconds',
      help: 'Operations resolved by this subgraph, by outcome (ok or errors)',
      labelNames: ['outcome'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'gatehouse_subgraph_errors_total',
      help: 'Errors answered, by code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    denials: new Counter({
      name: 'gatehouse_authorization_denials_total',
      help: 'Fields refused by an authorization rule, by rule and reason',
      labelNames: ['rule', 'reason'] as const,
      registers: [registry],
    }),
    sqlStatements: new Counter({
      name: 'gatehouse_sql_statements_total',
      help: 'SQL statements sent to Postgres in request transactions, BEGIN and COMMIT included',
      labelNames: ['service'] as const,
      registers: [registry],
    }),
    contextRefusals: new Counter({
      name: 'gatehouse_context_refusals_total',
      help: 'Requests refused for a missing or invalid gateway context, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}
export type SubgraphMetrics = ReturnType<typeof createSubgraphMetrics>;
