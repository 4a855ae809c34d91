import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginUsageReportingDisabled,
  ApolloServerPluginSchemaReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import {
  CONTEXT_HEADER,
  DEV_CONTEXT_SECRET_FILE,
  createAccessTokenVerifier,
  createContextSigner,
  createJwksCache,
  loadOrCreateDevSecret,
  toPublicError,
} from '../auth';
import { authenticateRequest } from './authenticateRequest';
import type { GatewayConfig } from './config';
import { createSubgraphClient } from './createSubgraphClient';
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

export interface CreateGatewayOptions {
  config: GatewayConfig;
  logger?: boolean;
  /** Overrides CONTEXT_SIGNING_SECRET / the development secret (tests). */
  contextSecret?: string;
}

function refusalBody(code: string, message: string, reason: string) {
  return JSON.stringify({ errors: [{ message, extensions: { code, reason } }] });
}

/**
 * Builds the gateway: Apollo Gateway (query planner and executor) on Apollo Server 5, served by Fastify.
 * Each request's bearer token is checked before Apollo Server sees the request; refusals answer 401 (or 400 / 503)
 * and reach no subgraph. Call `start()` to load keys and the supergraph and listen.
 */
export async function createGateway(options: CreateGatewayOptions) {
  const { config } = options;
  const contextSecret =
    options.contextSecret ?? config.CONTEXT_SIGNING_SECRET ?? (await loadOrCreateDevSecret(join(config.DATA_DIR, DEV_CONTEXT_SECRET_FILE)));

  const app: FastifyInstance = Fastify({
    logger: options.logger === false ? false : { level: config.LOG_LEVEL, redact: LOG_REDACT },
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
  });
  const log = app.log;

  const jwks = createJwksCache({
    url: config.AUTH_JWKS_URL,
    cooldownMs: config.JWKS_COOLDOWN_MS,
    refreshIntervalMs: config.JWKS_REFRESH_MS,
    maxStaleMs: config.JWKS_MAX_STALE_MS,
  });
  const verifier = createAccessTokenVerifier({
    issuer: config.TOKEN_ISSUER,
    audience: config.TOKEN_AUDIENCE,
    keys: jwks,
    clockToleranceSeconds: config.CLOCK_TOLERANCE_SECONDS,
    maxTokenAgeSeconds: config.MAX_TOKEN_AGE_SECONDS,
    cacheSize: config.TOKEN_CACHE_SIZE,
  });
  const signer = createContextSigner({ masterSecret: contextSecret, ttlSeconds: config.CONTEXT_TTL_SECONDS });
  const client = createSubgraphClient({ timeoutMs: config.SUBGRAPH_TIMEOUT_MS });

  const gateway = new ApolloGateway({
    supergraphSdl: createSupergraphSource({ path: config.SUPERGRAPH_PATH, pollMs: config.SUPERGRAPH_POLL_MS, log }),
    buildService: ({ name, url }) =>
      new SignedContextDataSource({ name, url: config.subgraphUrls[name] ?? (url as string), signer, client, log }),
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
    const auth = await authenticateRequest(request.raw.rawHeaders, verifier);
    if (!auth.ok) {
      if (auth.wwwAuthenticate) reply.header('www-authenticate', auth.wwwAuthenticate);
      const code = auth.status === 503 ? 'SERVICE_UNAVAILABLE' : 'UNAUTHENTICATED';
      const message = auth.status === 503 ? 'Token verification is temporarily unavailable' : 'Invalid or missing access token';
      return reply
        .code(auth.status)
        .type('application/json')
        .send(refusalBody(code, message, auth.reason));
    }

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
    const context: GatewayContext = { user: auth.user, requestId, clientAddress: request.ip, signedContexts: new Map() };
    const response = await server.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: async () => context });
    for (const [name, value] of response.headers) reply.header(name, value);
    reply.code(response.status ?? 200);
    if (response.body.kind === 'complete') return reply.send(response.body.string);
    return reply.send(Readable.from(response.body.asyncIterator));
  }

  app.route({ method: ['GET', 'POST'], url: '/graphql', handler: handleGraphQL });
  app.get('/health/live', async () => ({ status: 'ok' }));
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

  return {
    app,
    verifier,
    jwks,
    /** Loads keys and the supergraph, then listens. Resolves with the GraphQL URL. */
    async start(): Promise<string> {
      await loadKeys();
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
      jwks.stop();
    },
  };
}
export type Gateway = Awaited<ReturnType<typeof createGateway>>;
