import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  CONTEXT_HEADER,
  DEV_CONTEXT_SECRET_FILE,
  createContextSigner,
  createMemoryRevocationBus,
  createRedisRevocationBus,
  loadOrCreateDevSecret,
  toPublicError,
  type RevocationBus,
} from '../auth';
import { authenticateRequest } from './authenticateRequest';
import type { GatewayConfig } from './config';
import { createRevocationGuard } from './createRevocationGuard';
import { createSubgraphClient } from './createSubgraphClient';
import { createTokenVerifier } from './createTokenVerifier';
import { createGatewayMetrics } from './metrics';
import { SignedContextDataSource, type GatewayContext } from './SignedContextDataSource';
import { createSupergraphSource } from './supergraphSource';

const LOG_REDACT = {
  paths: [
    'req.headers.authorization',
    'req.headers.cookie',
    `req.headers["${CONTEXT_HEADER}"]`,
    '*.accessToken',
    '*.refreshToken',
    '*.password',
  ],
  censor: '[redacted]',
};

/** The refresh cookie the auth subgraph sets; the only cookie the gateway passes in either direction. */
export const REFRESH_COOKIE_NAME = 'gatehouse_refresh';
const REFRESH_COOKIE = new RegExp(`(?:^|;\\s*)${REFRESH_COOKIE_NAME}=([A-Za-z0-9_.-]{1,200})`);

export interface CreateGatewayOptions {
  config: GatewayConfig;
  /** false: no logs; a stream: JSON lines there instead of stdout (tests). */
  logger?: boolean | { stream: NodeJS.WritableStream; level?: string };
  /** Overrides CONTEXT_SIGNING_SECRET / the development secret (tests). */
  contextSecret?: string;
  /** An in-process bus shared with the auth subgraph (`npm start`); otherwise Redis (REDIS_URL) or none. */
  revocationBus?: RevocationBus;
}

function refusalBody(code: string, message: string, reason: string) {
  return JSON.stringify({ errors: [{ message, extensions: { code, reason } }] });
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
        : { level: config.LOG_LEVEL, redact: LOG_REDACT, ...(typeof options.logger === 'object' ? options.logger : {}) },
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
  });
  const log = app.log;
  const metrics = createGatewayMetrics();

  const verifier = createTokenVerifier(config, {
    onFetch: (result) => metrics.jwksFetches.inc({ result }),
    onCache: (result) => metrics.tokenCache.inc({ result }),
  });
  const jwks = verifier.localJwks;

  const retentionMs = config.REVOCATION_RETENTION_SECONDS * 1000;
  const ownBus = options.revocationBus
    ? undefined
    : config.REDIS_URL
      ? createRedisRevocationBus({ url: config.REDIS_URL, key: `${config.REDIS_KEY_PREFIX}revocations`, retentionMs })
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

  const gateway = new ApolloGateway({
    supergraphSdl: createSupergraphSource({ path: config.SUPERGRAPH_PATH, pollMs: config.SUPERGRAPH_POLL_MS, log }),
    buildService: ({ name, url }) =>
      new SignedContextDataSource({
        name,
        url: config.subgraphUrls[name] ?? (url as string),
        signer,
        client,
        log,
        auth: name === config.AUTH_SUBGRAPH_NAME ? authHooks : undefined,
      }),
    logger: log,
  });

  const server = new ApolloServer<GatewayContext>({
    gateway,
    logger: log,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: config.isProduction,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    formatError: (formatted, error) => {
      const { error: publicError, masked } = toPublicError(formatted);
      if (masked) log.error({ err: error }, 'request failed');
      return publicError;
    },
    plugins: [
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      config.isProduction
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
    ],
  });

  let started = false;
  let jwksRetry: NodeJS.Timeout | undefined;

  async function handleGraphQL(request: FastifyRequest, reply: FastifyReply) {
    const requestId = randomUUID();
    reply.header('x-request-id', requestId);
    const auth = await authenticateRequest(request.raw.rawHeaders, verifier, revocations);
    if (!auth.ok) {
      metrics.authOutcomes.inc({ outcome: auth.reason });
      log.info({ requestId, reason: auth.reason, clientAddress: request.ip }, 'request refused before execution');
      if (auth.wwwAuthenticate) reply.header('www-authenticate', auth.wwwAuthenticate);
      const code = auth.status === 503 ? 'SERVICE_UNAVAILABLE' : 'UNAUTHENTICATED';
      const message = auth.status === 503 ? 'Token verification is temporarily unavailable' : 'Invalid or missing access token';
      return reply
        .code(auth.status)
        .type('application/json')
        .send(refusalBody(code, message, auth.reason));
    }
    metrics.authOutcomes.inc({ outcome: auth.user ? 'ok' : 'anonymous' });

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
    const cookie = typeof request.headers.cookie === 'string' ? REFRESH_COOKIE.exec(request.headers.cookie) : null;
    const context: GatewayContext = {
      user: auth.user,
      requestId,
      clientAddress: request.ip,
      // Apollo Server shallow-copies the context: state the data sources fill must be shared objects made here.
      setCookies: [],
      ...(cookie ? { refreshCookie: `${REFRESH_COOKIE_NAME}=${cookie[1]}` } : {}),
    };
    const response = await server.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: async () => context });
    for (const [name, value] of response.headers) reply.header(name, value);
    if (context.setCookies?.length) reply.header('set-cookie', context.setCookies);
    reply.code(response.status ?? 200);
    log.debug(
      { requestId, status: response.status ?? 200, userId: auth.user?.id ?? null, tenantId: auth.user?.tenantId ?? null },
      'request executed',
    );
    if (response.body.kind === 'complete') return reply.send(response.body.string);
    return reply.send(Readable.from(response.body.asyncIterator));
  }

  app.route({ method: ['GET', 'POST'], url: '/graphql', handler: handleGraphQL });
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_request, reply) => {
    const ready = started && jwks.isReady;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', keys: jwks.isReady });
  });
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

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

  return {
    app,
    verifier,
    jwks,
    revocations,
    metrics,
    /** Loads keys, revocations and the supergraph, then listens. Resolves with the GraphQL URL. */
    async start(): Promise<string> {
      await loadKeys();
      loadExternalKeys();
      revocations.start();
      await server.start();
      started = true;
      await app.listen({ port: config.PORT, host: config.HOST });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.PORT;
      return `http://${config.HOST}:${port}/graphql`;
    },
    /** Stops accepting, drains requests in flight, then releases everything. */
    async close(): Promise<void> {
      if (jwksRetry) clearTimeout(jwksRetry);
      await app.close();
      await server.stop();
      await client.close();
      await revocations.close();
      await ownBus?.close();
      verifier.stop();
    },
  };
}
export type Gateway = Awaited<ReturnType<typeof createGateway>>;
