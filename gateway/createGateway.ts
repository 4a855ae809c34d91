import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, HeaderMap, type GraphQLResponse, type HTTPGraphQLRequest } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import cors from '@fastify/cors';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { NoSchemaIntrospectionCustomRule, type FormattedExecutionResult, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  CONTEXT_HEADER,
  DEV_CONTEXT_SECRET_FILE,
  IDEMPOTENCY_KEY,
  REFRESH_COOKIE_NAME,
  createContextSigner,
  createMemoryRevocationBus,
  createRedisRevocationBus,
  flushTracing,
  initTracing,
  loadOrCreateDevSecret,
  readRefreshCookie,
  toPublicError,
  type ContextUser,
  type RevocationBus,
} from '../auth';
import type { EventBus } from '../service/eventBus';
import { serveMetrics, type MetricsServer } from '../service/serveMetrics';
import { closeGracefully } from '../service/shutdown';
import { authenticateRequest } from './authenticateRequest';
import type { GatewayConfig } from './config';
import { createRateLimits } from './createRateLimits';
import { answerHttpErrors, refusalBody } from '../service/httpErrors';
import { serveSubscriptions } from './serveSubscriptions';
import { createRevocationGuard } from './createRevocationGuard';
import { createSubgraphClient } from './createSubgraphClient';
import { createLeanPipeline } from './leanPipeline';
import { createReferenceVerifier, referenceMapOf, verifyReferences, type ReferenceMap } from './verifyReferences';
import { createTokenVerifier } from './createTokenVerifier';
import { enforceAuthorization } from './enforceAuthorization';
import { createRoleSource } from './roleSource';
import { createGatewayMetrics } from './metrics';
import { SignedContextDataSource, type GatewayContext } from './SignedContextDataSource';
import { createSupergraphSource } from './supergraphSource';
import { registerExplorer, withExplorerLink } from './explorer';
import { LOG_REDACT } from '../service/logging';

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

  const apolloGateway = new ApolloGateway({
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
  });
  // Fields the caller may not see are removed before the query plan (see enforceAuthorization).
  const gateway = enforceAuthorization(apolloGateway, {
    stepUpMaxAgeSeconds: config.STEP_UP_MAX_AGE_SECONDS,
    now: options.now,
    onRefusal: (code) => metrics.fieldRefusals.inc({ code }),
  });

  // Where the supergraph's `@references` stand, kept current as the supergraph reloads.
  let referenceMap: ReferenceMap = new Map();
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    referenceMap = referenceMapOf(coreSupergraphSdl);
  });

  const rateLimits = createRateLimits({
    perUser: config.RATE_LIMIT_PER_USER,
    perTenant: config.RATE_LIMIT_PER_TENANT,
    perAddress: config.RATE_LIMIT_PER_ADDRESS,
    windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
    redisUrl: config.REDIS_URL,
    keyPrefix: config.REDIS_KEY_PREFIX,
    redisTimeoutMs: config.REDIS_TIMEOUT_MS,
  });
  // Query limits run as validation rules: an abusive operation is refused before any plan or subgraph call. The
  // token limit is graphql-js's own parse option (below): armor's version parses every new query a second time, in
  // a plugin hook, and turns a plain syntax error into GRAPHQL_VALIDATION_FAILED.
  const armor = new ApolloArmor({
    maxDepth: { n: config.MAX_DEPTH, ignoreIntrospection: true },
    maxAliases: { n: config.MAX_ALIASES },
    maxTokens: { enabled: false },
    maxDirectives: { n: config.MAX_DIRECTIVES },
    costLimit: { maxCost: config.MAX_COST, ignoreIntrospection: true },
    blockFieldSuggestion: { enabled: config.isProduction },
  }).protect();

  // What is masked is logged with the request's logger (its requestId and traceId).
  const formatError = (formatted: GraphQLFormattedError) => toPublicError(formatted).error;
  const logMasked = (errors: readonly GraphQLError[], contextValue: GatewayContext) => {
    for (const error of errors) {
      if (toPublicError(error).masked) (contextValue.log ?? log).error({ err: error.originalError ?? error }, 'request failed');
    }
  };
  const verifyMutationReferences = createReferenceVerifier({
    references: () => referenceMap,
    lookup: async (query, variables, contextValue): Promise<unknown> => {
      const result: GraphQLResponse = await server.executeOperation({ query, variables }, { contextValue });
      return result.body.kind === 'single' ? result.body.singleResult.data : undefined;
    },
  });

  // The production path for POSTed JSON operations; Apollo Server answers the rest (and everything with 'apollo').
  const lean =
    config.GRAPHQL_PIPELINE === 'lean'
      ? createLeanPipeline({
          validationRules: [...(config.introspection ? [] : [NoSchemaIntrospectionCustomRule]), ...armor.validationRules],
          maxTokens: config.MAX_TOKENS,
          formatError,
          onErrors: async (errors, contextValue) => {
            // armor's hooks (field suggestions hidden in production), then the log, as Apollo Server runs them.
            for (const plugin of armor.plugins) {
              const listener = await plugin.requestDidStart?.({ contextValue } as never);
              await listener?.didEncounterErrors?.({ errors, contextValue } as never);
            }
            logMasked(errors, contextValue);
          },
          didResolveOperation: verifyMutationReferences,
          logger: log,
        })
      : undefined;

  const server: ApolloServer<GatewayContext> = new ApolloServer<GatewayContext>({
    gateway: lean ? lean.attach(gateway) : gateway,
    validationRules: armor.validationRules,
    // Over the limit the parser stops at once: GRAPHQL_PARSE_FAILED (400), like any syntax error.
    parseOptions: { maxTokens: config.MAX_TOKENS },
    logger: log,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: config.isProduction,
    csrfPrevention: true,
    // Signals are the process's (service/shutdown.ts): Apollo Server's own handler would stop it and re-raise the
    // signal, killing the process before the requests in flight have drained.
    stopOnTerminationSignals: false,
    allowBatchedHttpRequests: false,
    formatError,
    plugins: [
      ...armor.plugins,
      verifyReferences(verifyMutationReferences),
      {
        async requestDidStart() {
          return {
            // The operation's name, once the document is parsed (never the client's claim about it).
            async didResolveOperation(requestContext) {
              const stats = requestContext.contextValue.stats;
              if (stats) stats.operation = requestContext.operationName ?? undefined;
            },
            // An error the client only sees as INTERNAL_SERVER_ERROR: its cause goes to the log, tied to the request.
            async didEncounterErrors(requestContext) {
              logMasked(requestContext.errors, requestContext.contextValue);
            },
          };
        },
      },
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      config.isProduction
        ? ApolloServerPluginLandingPageDisabled()
        : withExplorerLink(ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })),
    ],
  });

  // Subscriptions: WebSocket on /graphql, SSE on /graphql/stream; each event looked up as the subscriber.
  const subscriptions = serveSubscriptions({
    app,
    config,
    eventBus: options.eventBus,
    authenticate: (rawHeaders) => authenticateRequest(rawHeaders, verifier, revocations, roles),
    validationRules: [...(config.introspection ? [] : [NoSchemaIntrospectionCustomRule]), ...armor.validationRules],
    onSchema: (listener) => gateway.onSchemaLoadOrUpdate(listener),
    onRevoked: (listener) => revocations.onRevoked(listener),
    metrics,
    log,
    now: options.now,
    async execute({ query, variables, user, address }) {
      const contextValue: GatewayContext = { user, requestId: randomUUID(), clientAddress: address, setCookies: [], stats: {}, log };
      // The lean path where it is on (the same answer as Apollo Server's, for less): the lookup is a POSTed query.
      const leanAnswer = await lean?.handle(
        { method: 'POST', contentType: 'application/json', accept: 'application/json', body: { query, variables } },
        contextValue,
      );
      if (leanAnswer) return JSON.parse(leanAnswer.body) as FormattedExecutionResult;
      const result = await server.executeOperation<Record<string, unknown>>({ query, variables }, { contextValue });
      return result.body.kind === 'single'
        ? result.body.singleResult
        : { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] };
    },
  });

  let started = false;
  let jwksRetry: NodeJS.Timeout | undefined;

  // The pipeline counter's two series, bound once (a labelled inc hashes its labels on every request).
  const servedLean = metrics.pipeline.labels({ path: 'lean' });
  const servedByApollo = metrics.pipeline.labels({ path: 'apollo' });

  // Operation names label the request metric; a client cannot grow the series without bound.
  const operationNames = new Set<string>();
  const operationLabel = (name: string | undefined) => {
    if (!name) return 'anonymous';
    if (operationNames.has(name) || operationNames.size < 200) return (operationNames.add(name), name);
    return 'other';
  };

  async function handleGraphQL(request: FastifyRequest, reply: FastifyReply) {
    const startedAt = performance.now();
    const stats: { operation?: string } = {};
    const { span, context: traceContext } = tracing.startServerSpan('graphql', request.headers);
    const traceId = span.spanContext().traceId;
    reply.raw.once('finish', () => {
      metrics.requests.observe(
        { operation: operationLabel(stats.operation), status: String(reply.statusCode) },
        (performance.now() - startedAt) / 1000,
      );
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (stats.operation) span.setAttribute('graphql.operation.name', stats.operation);
      span.end();
    });
    const requestId = randomUUID();
    reply.header('x-request-id', requestId);
    // Every line this request logs, here and in its subgraph calls, carries its request id and trace id.
    const requestLog = log.child({ requestId, traceId });
    request.log = reply.log = requestLog;
    const auth = options.staticIdentity
      ? ({ ok: true, user: options.staticIdentity, principal: null } as const)
      : await authenticateRequest(request.raw.rawHeaders, verifier, revocations, roles);
    if (!auth.ok) {
      metrics.authOutcomes.inc({ outcome: auth.reason });
      requestLog.info({ reason: auth.reason, clientAddress: request.ip }, 'request refused before execution');
      if (auth.wwwAuthenticate) reply.header('www-authenticate', auth.wwwAuthenticate);
      const code = auth.status === 503 ? 'SERVICE_UNAVAILABLE' : 'UNAUTHENTICATED';
      const message = auth.status === 503 ? 'Token verification is temporarily unavailable' : 'Invalid or missing access token';
      return reply
        .code(auth.status)
        .type('application/json')
        .send(refusalBody(code, message, auth.reason));
    }
    metrics.authOutcomes.inc({ outcome: auth.user ? 'ok' : 'anonymous' });
    // Safe retries: the key reaches the subgraphs inside the signed context, on mutations of a signed-in caller.
    const idempotencyKey = request.headers['idempotency-key'];
    if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(idempotencyKey))) {
      return reply
        .code(400)
        .type('application/json')
        .send(
          refusalBody(
            'BAD_USER_INPUT',
            'Idempotency-Key must be one value of 1 to 255 visible ASCII characters',
            'idempotency_key_invalid',
          ),
        );
    }
    const limit = rateLimits.active
      ? await rateLimits.consume({ user: auth.user?.id, tenant: auth.user?.tenantId, address: request.ip })
      : ({ ok: true } as const);
    if (!limit.ok) {
      metrics.rateLimited.inc({ scope: limit.scope });
      return reply
        .code(429)
        .header('retry-after', String(limit.retryAfterSeconds))
        .type('application/json')
        .send(
          JSON.stringify({
            errors: [
              {
                message: 'Too many requests',
                extensions: { code: 'RATE_LIMITED', reason: `${limit.scope}_limit`, retryAfterSeconds: limit.retryAfterSeconds },
              },
            ],
          }),
        );
    }

    const refreshToken = readRefreshCookie(request.headers.cookie);
    const context: GatewayContext = {
      user: auth.user,
      requestId,
      clientAddress: request.ip,
      // Apollo Server shallow-copies the context: state the data sources fill must be shared objects made here.
      setCookies: [],
      stats,
      log: requestLog,
      traceContext,
      ...(refreshToken ? { refreshCookie: `${REFRESH_COOKIE_NAME}=${refreshToken}` } : {}),
      ...(idempotencyKey ? { idempotencyKey } : {}),
    };
    const finish = (status: number) => {
      if (context.setCookies?.length) reply.header('set-cookie', context.setCookies);
      reply.code(status);
      requestLog.debug({ status, userId: auth.user?.id ?? null, tenantId: auth.user?.tenantId ?? null }, 'request executed');
    };

    const leanResponse = await lean?.handle(
      { method: request.method, contentType: request.headers['content-type'], accept: request.headers.accept, body: request.body },
      context,
    );
    if (leanResponse) {
      servedLean.inc();
      for (const [name, value] of leanResponse.headers) reply.header(name, value);
      reply.header('content-type', leanResponse.contentType);
      finish(leanResponse.status);
      return reply.send(leanResponse.body);
    }

    servedByApollo.inc();
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || name === CONTEXT_HEADER) continue;
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const queryStart = request.url.indexOf('?');
    const httpGraphQLRequest: HTTPGraphQLRequest = {
      method: request.method.toUpperCase(),
      headers,
      search: queryStart === -1 ? '' : request.url.slice(queryStart + 1),
      body: request.body,
    };
    const response = await server.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: async () => context });
    for (const [name, value] of response.headers) reply.header(name, value);
    finish(response.status ?? 200);
    if (response.body.kind === 'complete') return reply.send(response.body.string);
    return reply.send(Readable.from(response.body.asyncIterator));
  }

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
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', keys: jwks.isReady });
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
      revocations.start();
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
