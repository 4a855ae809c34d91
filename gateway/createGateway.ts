import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import {
  DEV_CONTEXT_SECRET_FILE,
  REFRESH_COOKIE_NAME,
  createContextSigner,
  createMemoryRevocationBus,
  createRedisRevocationBus,
  flushTracing,
  initTracing,
  loadOrCreateDevSecret,
  type ContextUser,
  type RevocationBus,
} from '../auth';
import type { EventBus } from '../service/eventBus';
import { answerHttpErrors } from '../service/httpErrors';
import { LOG_REDACT } from '../service/logging';
import { createRedisHealth } from '../service/redisHealth';
import { serveMetrics, type MetricsServer } from '../service/serveMetrics';
import { closeGracefully } from '../service/shutdown';
import { authenticateRequest } from './authenticateRequest';
import type { GatewayConfig } from './config';
import { createGraphQLHandler } from './createGraphQLHandler';
import { createGraphQLServer } from './createGraphQLServer';
import { createRateLimits } from './createRateLimits';
import { createRevocationGuard } from './createRevocationGuard';
import { createSubgraphClient } from './createSubgraphClient';
import { createTokenVerifier } from './createTokenVerifier';
import { enforceAuthorization } from './enforceAuthorization';
import { registerExplorer } from './explorer';
import { createGatewayMetrics } from './metrics';
import { createRoleSource } from './roleSource';
import { serveSubscriptions } from './serveSubscriptions';
import { SignedContextDataSource } from './SignedContextDataSource';
import { createSupergraphSource } from './supergraphSource';

export interface CreateGatewayOptions {
  config: GatewayConfig;
  /** false: no logs; a stream: JSON lines there instead of stdout (tests). */
  logger?: boolean | { stream: NodeJS.WritableStream; level?: string };
  /** Overrides CONTEXT_SIGNING_SECRET / the development secret (tests). */
  contextSecret?: string;
  /** An in-process bus shared with the auth subgraph (`npm start`); otherwise Redis (REDIS_URL) or none. */
  revocationBus?: RevocationBus;
  /** An in-process event bus shared with the subgraphs (`npm start`); otherwise Redis (REDIS_URL) or this process only. */
  eventBus?: EventBus;
  /**
   * Benchmark only ("auth switched off"): skip token checks and sign this identity for every request. Deliberately
   * not reachable from configuration.
   */
  staticIdentity?: ContextUser;
  /** The clock of token and key-set checks, in ms since the epoch; default Date.now (tests move it). */
  now?: () => number;
}

/**
 * Builds the gateway: Apollo Gateway (query planner and executor) on Apollo Server 5, served by Fastify.
 * Each request's bearer token is checked, and its session against the local revocation set, before Apollo Server
 * sees the request; refusals answer 401 (or 400 / 503) and reach no subgraph. `start()` loads keys, revocations
 * and the supergraph, then listens.
 */
export async function createGateway(options: CreateGatewayOptions) {
  const { config } = options;
  const contextSecret =
    options.contextSecret ?? config.CONTEXT_SIGNING_SECRET ?? (await loadOrCreateDevSecret(join(config.DATA_DIR, DEV_CONTEXT_SECRET_FILE)));

  const app: FastifyInstance = Fastify({
    logger:
      options.logger === false
        ? false
        : { level: config.LOG_LEVEL, ...(typeof options.logger === 'object' ? options.logger : {}), redact: LOG_REDACT },
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.trustsProxy,
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
  });
  answerHttpErrors(app);
  const log = app.log;
  const metrics = createGatewayMetrics();
  // Every Redis client's problems are logged and counted; readiness names the degraded ones.
  const redisHealth = createRedisHealth();
  redisHealth.bind({ log, registry: metrics.registry });
  const tracing = initTracing({ serviceName: config.OTEL_SERVICE_NAME, otlpEndpoint: config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT });

  const roles = createRoleSource({ path: config.ROLES_PATH, pollMs: config.SUPERGRAPH_POLL_MS, log });
  const verifier = createTokenVerifier(config, { metrics, log, now: options.now, isRole: (name) => roles.table.isRole(name) });
  const jwks = verifier.localJwks;

  const retentionMs = config.REVOCATION_RETENTION_SECONDS * 1000;
  const ownBus = options.revocationBus
    ? undefined
    : config.REDIS_URL
      ? createRedisRevocationBus({
          url: config.REDIS_URL,
          key: `${config.REDIS_KEY_PREFIX}revocations`,
          retentionMs,
          commandTimeoutMs: config.REDIS_TIMEOUT_MS,
          redisHealth,
        })
      : createMemoryRevocationBus({ retentionMs });
  if (!options.revocationBus && !config.REDIS_URL) {
    log.warn('no REDIS_URL: this gateway only learns of revocations from logouts it carries itself');
  }
  const revocations = createRevocationGuard({
    bus: options.revocationBus ?? ownBus!,
    retentionMs,
    whenBusDown: config.REVOCATION_WHEN_BUS_DOWN,
    busDownGraceMs: config.REVOCATION_BUS_GRACE_MS,
    metrics,
    log: { warn: (msg) => log.warn(msg), info: (msg) => log.info(msg) },
  });

  const signer = createContextSigner({ masterSecret: contextSecret, ttlSeconds: config.CONTEXT_TTL_SECONDS });
  const client = createSubgraphClient({ timeoutMs: config.SUBGRAPH_TIMEOUT_MS });
  const authHooks = { cookieName: REFRESH_COOKIE_NAME, applyRevocations: (header: string) => revocations.applyAnnounced(header) };

  const apolloGateway = withoutVendorTelemetry(
    () =>
      new ApolloGateway({
        supergraphSdl: createSupergraphSource({ path: config.SUPERGRAPH_PATH, pollMs: config.SUPERGRAPH_POLL_MS, log }),
        buildService: ({ name, url }) =>
          new SignedContextDataSource({
            name,
            url: config.subgraphUrls[name] ?? (url as string),
            signer,
            client,
            log,
            auth: name === config.AUTH_SUBGRAPH_NAME ? authHooks : undefined,
            timeoutMs: config.subgraphTimeouts[name],
            tracing,
            observe: (outcome, seconds) => metrics.subgraphCalls.observe({ subgraph: name, outcome }, seconds),
          }),
        logger: log,
        // The query plan in a response's extensions when a request asks for it (Apollo Sandbox's plan view): development
        // only, decided by the gateway's configuration rather than by whatever NODE_ENV the process happens to have.
        __exposeQueryPlanExperimental: !config.isProduction,
      }),
  );
  // Fields the caller may not see are removed before the query plan (see enforceAuthorization).
  const gateway = enforceAuthorization(apolloGateway, {
    stepUpMaxAgeSeconds: config.STEP_UP_MAX_AGE_SECONDS,
    now: options.now,
    onRefusal: (code) => metrics.fieldRefusals.inc({ code }),
  });

  const rateLimits = createRateLimits({
    perUser: config.RATE_LIMIT_PER_USER,
    perTenant: config.RATE_LIMIT_PER_TENANT,
    perAddress: config.RATE_LIMIT_PER_ADDRESS,
    windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
    redisUrl: config.REDIS_URL,
    keyPrefix: config.REDIS_KEY_PREFIX,
    redisTimeoutMs: config.REDIS_TIMEOUT_MS,
    redisHealth,
  });
  const graphql = createGraphQLServer({ config, gateway, log });
  const authenticate = (rawHeaders: readonly string[]) => authenticateRequest(rawHeaders, verifier, revocations, roles);
  const { server } = graphql;

  // Subscriptions: WebSocket on /graphql, SSE on /graphql/stream; each event looked up as the subscriber.
  const subscriptions = serveSubscriptions({
    app,
    config,
    eventBus: options.eventBus,
    redisHealth,
    authenticate,
    validationRules: graphql.validationRules,
    onSchema: (listener) => gateway.onSchemaLoadOrUpdate(listener),
    onRevoked: (listener) => revocations.onRevoked(listener),
    metrics,
    log,
    now: options.now,
    execute: ({ query, variables, user, address }) =>
      graphql.execute(query, variables, { user, requestId: randomUUID(), clientAddress: address, setCookies: [], stats: {}, log }),
  });

  let started = false;
  let jwksRetry: NodeJS.Timeout | undefined;

  const handleGraphQL = createGraphQLHandler({
    authenticate,
    rateLimits,
    graphql,
    metrics,
    tracing,
    log,
    exposesQueryPlans: !config.isProduction,
    servesLandingPage: !config.isProduction,
    staticIdentity: options.staticIdentity,
  });

  await app.register(cors, {
    origin: config.corsOrigins.length ? [...config.corsOrigins] : false,
    credentials: true,
    methods: ['GET', 'POST'],
    allowedHeaders: ['content-type', 'authorization', 'apollo-require-preflight', 'x-apollo-operation-name', 'idempotency-key'],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  });
  app.route({ method: ['GET', 'POST'], url: '/graphql', handler: handleGraphQL });
  app.get('/health/live', async () => ({ status: 'ok' }));
  // The offline explorer: development only, and only where its packages are installed (not in the image).
  if (!config.isProduction && !registerExplorer(app)) log.info('explorer off: graphiql and react are not installed');
  app.get('/health/ready', async (_request, reply) => {
    const ready = started && jwks.isReady;
    // Still ready with Redis down (rate limits count per instance meanwhile), but saying what is degraded.
    const degraded = redisHealth.degraded();
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not_ready', keys: jwks.isReady, ...(degraded.length ? { degraded } : {}) });
  });

  async function loadKeys() {
    try {
      await jwks.load();
      log.info('signing keys loaded');
    } catch (error) {
      log.warn({ err: error }, 'signing keys unavailable; retrying (token requests answer 503 meanwhile)');
      jwksRetry = setTimeout(loadKeys, 2000);
      jwksRetry.unref();
    }
  }

  // External providers are loaded in the background: until one is, its tokens find no key and are refused.
  function loadExternalKeys() {
    for (const external of verifier.externalIssuers) {
      const attempt = () =>
        external.load().then(
          () => log.info({ issuer: external.issuer }, 'external issuer keys loaded'),
          (error) => {
            log.warn({ issuer: external.issuer, err: error }, 'external issuer keys unavailable; retrying');
            setTimeout(attempt, 5000).unref();
          },
        );
      void attempt();
    }
  }

  let metricsServer: MetricsServer | undefined;
  let closing: Promise<void> | undefined;

  return {
    app,
    verifier,
    jwks,
    revocations,
    metrics,
    /** Open subscriptions and their connections. */
    subscriptions: subscriptions.hub,
    /** The roles file in use (reloaded when it changes). */
    roles,
    /** Where Prometheus scrapes this instance (METRICS_PORT, apart from the public port); set once started. */
    get metricsUrl() {
      return metricsServer?.url;
    },
    /** Loads keys, revocations and the supergraph, then listens. Resolves with the GraphQL URL. */
    async start(): Promise<string> {
      await loadKeys();
      loadExternalKeys();
      await revocations.start();
      await server.start();
      started = true;
      metricsServer = await serveMetrics({ registry: metrics.registry, port: config.METRICS_PORT, host: config.HOST });
      await app.listen({ port: config.PORT, host: config.HOST });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.PORT;
      return `http://${config.HOST}:${port}/graphql`;
    },
    /** Stops accepting, drains requests in flight, then releases everything (once; later calls wait for it). */
    close(): Promise<void> {
      closing ??= shutDown();
      return closing;
    },
  };

  async function shutDown(): Promise<void> {
    if (jwksRetry) clearTimeout(jwksRetry);
    // Subscribers are told to reconnect (to another replica) before the server stops.
    await subscriptions.drain();
    // Requests in flight finish; keep-alive connections are closed as they fall idle; after 10 s the rest is cut.
    await closeGracefully(app);
    await metricsServer?.close();
    await server.stop();
    await client.close();
    await revocations.close();
    await subscriptions.close();
    rateLimits.close();
    await ownBus?.close();
    verifier.stop();
    roles.close();
    await flushTracing();
  }
}
export type Gateway = Awaited<ReturnType<typeof createGateway>>;

/**
 * Runs `construct` with Apollo Gateway's own telemetry off. Unless APOLLO_TELEMETRY_DISABLED is set, each
 * ApolloGateway probes the cloud metadata services (AWS, Azure, GCP, Alibaba) as it is constructed and then sends
 * host metrics to Apollo every minute: a gateway must reach its subgraphs, key sets and stores and nothing else.
 * The variable is read only by the constructor, so it is set for that call alone.
 */
function withoutVendorTelemetry<T>(construct: () => T): T {
  const previous = process.env.APOLLO_TELEMETRY_DISABLED;
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  try {
    return construct();
  } finally {
    if (previous === undefined) delete process.env.APOLLO_TELEMETRY_DISABLED;
    else process.env.APOLLO_TELEMETRY_DISABLED = previous;
  }
}
