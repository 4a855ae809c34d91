import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import mercurius from 'mercurius';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import {
  CONTEXT_HEADER,
  ContextTokenError,
  createContextVerifier,
  hashBody,
  initTracing,
  toPublicError,
  type VerifiedContext,
  type ContextUser,
  type ForwardedContext,
} from '../../auth';
import type { Database } from './database';
import { createSubgraphMetrics, type SubgraphMetrics } from './subgraphMetrics';
import { answerHttpErrors, clientRefusal, refusalBody } from '../../service/httpErrors';
import { LOG_REDACT } from '../../service/logging';
import type { RedisHealth } from '../../service/redisHealth';
import { assertNoNulCharacters } from './assertNoNulCharacters';
import { registerIdempotentMutations } from './idempotency';

/** Log level and, for tests, where the JSON lines go (default stdout). */
export interface LoggerOptions {
  level: string;
  stream?: NodeJS.WritableStream;
}

/** What every resolver of every subgraph receives. */
export interface SubgraphContext {
  /** The verified caller, or null when the gateway forwarded an anonymous context. */
  viewer: ContextUser | null;
  forwarded: ForwardedContext;
  db: Database;
  log: FastifyRequest['log'];
  /** How recent a second factor must be for sensitive operations (seconds). */
  stepUpMaxAgeSeconds: number;
  /**
   * Runs `task` once the request's writes are committed: at once, or, for a mutation under an Idempotency-Key (whose
   * writes commit with its answer), after that commit. For what must only follow committed writes (publishing).
   */
  afterCommit(task: () => Promise<unknown>): Promise<void>;
  /** The HTTP exchange with the gateway: for the auth subgraph's cookies and response headers. */
  request: FastifyRequest;
  reply: FastifyReply;
}

export interface SubgraphService {
  name: string;
  /** The executable schema, permissions already applied. */
  schema: GraphQLSchema;
  /**
   * False when the service's mutations keep their own transactions (they do not write through `ctx.db`) and are safe
   * to retry by design: an Idempotency-Key is then not handled. Default true.
   */
  idempotentMutations?: boolean;
  /** Its Redis clients' health: the kit logs and counts their problems, and readiness names the degraded ones. */
  redisHealth?: RedisHealth;
  /** Extra HTTP routes outside /graphql (these do not require the gateway's signature). */
  registerRoutes?(app: FastifyInstance): void | Promise<void>;
}

export interface SubgraphServerOptions {
  service: SubgraphService;
  db: Database;
  /** This subgraph's context verification key (derived from the gateway's master secret). */
  contextKey: string | Buffer;
  logger?: boolean | LoggerOptions;
  bodyLimitBytes?: number;
  /** OTLP/HTTP traces endpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); spans are made and propagated regardless. */
  otlpEndpoint?: string;
  /** STEP_UP_MAX_AGE_SECONDS; default 900. */
  stepUpMaxAgeSeconds?: number;
  /** How long an Idempotency-Key is remembered; default 86 400 s (24 h). */
  idempotencyKeyTtlSeconds?: number;
  /** Where the server records its metrics (served apart, see startSubgraph); default a registry of its own. */
  metrics?: SubgraphMetrics;
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyRequest {
    verifiedContext?: VerifiedContext;
    startedAt?: number;
    traceId?: string;
    bodyHash?: string;
    gatehouseContext?: ForwardedContext;
    /** The raw body holds the JSON escape of a NUL character (then the operation is checked for one). */
    mayHoldNul?: boolean;
    /** Why the body is not JSON (Fastify's error code), answered once the body is known to be the signed one. */
    unreadableBody?: string;
  }
}

function refuse(request: FastifyRequest, reply: FastifyReply, error: unknown, metrics?: SubgraphMetrics) {
  const reason = error instanceof ContextTokenError ? error.reason : 'context_malformed';
  metrics?.contextRefusals.inc({ reason });
  request.log.warn({ reason }, 'refused a request without a valid gateway context');
  return reply.code(401).send(unauthenticatedBody(reason));
}

function unauthenticatedBody(reason: string) {
  return { data: null, errors: [{ message: 'Missing or invalid gateway context', extensions: { code: 'UNAUTHENTICATED', reason } }] };
}

/**
 * Builds (does not start) the Fastify server of one subgraph: mercurius on /graphql behind a check of the
 * gateway's signed context that runs before anything is parsed or resolved (`_service` and `_entities`
 * included), health endpoints, and an error formatter that lets coded errors through and masks the rest.
 */
export async function createSubgraphServer(options: SubgraphServerOptions): Promise<FastifyInstance> {
  const { service, db } = options;
  const verifier = createContextVerifier({ key: options.contextKey, audience: service.name, now: options.now });
  const stepUpMaxAgeSeconds = options.stepUpMaxAgeSeconds ?? 900;
  const metrics = options.metrics ?? createSubgraphMetrics(service.name);
  const tracing = initTracing({ serviceName: `gatehouse-${service.name}`, otlpEndpoint: options.otlpEndpoint });
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : { level: 'info', ...(typeof options.logger === 'object' ? options.logger : {}), redact: LOG_REDACT },
    bodyLimit: options.bodyLimitBytes ?? 1_048_576,
    requestIdHeader: false,
    logController: new LogController({ disableRequestLogging: true }),
  });
  answerHttpErrors(app);

  app.get('/health/live', async () => ({ status: 'ok' }));
  service.redisHealth?.bind({ log: app.log, registry: metrics.registry });
  app.get('/health/ready', async (_request, reply) => {
    try {
      await db.ping();
      // Still serving, with what is down named (login throttling fails closed while its Redis is down).
      const degraded = service.redisHealth?.degraded() ?? [];
      return degraded.length ? { status: 'ready', degraded } : { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'not_ready', reason: 'database_unavailable' });
    }
  });
  await service.registerRoutes?.(app);

  await app.register(async (graphqlScope) => {
    // Nothing reaches GraphQL parsing or a resolver without a valid signature made for this subgraph, checked
    // before the body is read; the body is then checked against the hash the signature covers.
    graphqlScope.addHook('onRequest', async (request, reply) => {
      // Only the gateway calls a subgraph, and always with POST: a GET would carry no body for the signature to bind.
      if (request.method !== 'POST') {
        return reply.code(405).header('allow', 'POST').type('application/json').send(refusalBody('BAD_REQUEST', 'Use POST'));
      }
      request.startedAt = performance.now();
      // A child of the gateway's call span (W3C traceparent); ends with the response.
      const { span } = tracing.startServerSpan(`${service.name} operation`, request.headers);
      request.traceId = span.spanContext().traceId;
      reply.raw.once('finish', () => {
        span.setAttribute('http.response.status_code', reply.statusCode);
        span.end();
      });
      try {
        request.verifiedContext = verifier.verifyHeader(request.headers[CONTEXT_HEADER]);
      } catch (error) {
        return refuse(request, reply, error, metrics);
      }
    });
    const parseJson = graphqlScope.getDefaultJsonParser('error', 'error');
    graphqlScope.removeContentTypeParser('application/json');
    graphqlScope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
      request.bodyHash = hashBody(body as Buffer);
      // JSON can only carry a NUL as the escape \u0000 (in a variable, or in a GraphQL string literal of the query, which
      // may also write it \u{0}): without those bytes there is nothing to look for.
      request.mayHoldNul = (body as Buffer).includes('u0000') || (body as Buffer).includes('u{');
      // A body that is not JSON is answered BAD_REQUEST, but only after the signature has been checked against it
      // (preHandler): before that, all a caller learns is that its context is refused.
      parseJson(request, (body as Buffer).toString('utf8'), (error, parsed) => {
        if (error) request.unreadableBody = (error as FastifyError).code ?? 'FST_ERR_CTP_INVALID_JSON_BODY';
        done(null, error ? undefined : parsed);
      });
    });
    graphqlScope.addHook('preHandler', async (request, reply) => {
      try {
        request.gatehouseContext = verifier.checkBody(request.verifiedContext!, request.bodyHash ?? hashBody(''));
      } catch (error) {
        return refuse(request, reply, error, metrics);
      }
      // Every line this request logs carries the gateway's request id and the trace id, as the gateway's own lines do.
      request.log = reply.log = request.log.child({ requestId: request.gatehouseContext.requestId, traceId: request.traceId });
      if (request.unreadableBody) return reply.code(400).type('application/json').send(clientRefusal(request.unreadableBody));
    });

    // Mutations sent with an Idempotency-Key: one transaction with their key, answered from it when retried.
    if (service.idempotentMutations !== false) {
      registerIdempotentMutations(graphqlScope, { db, schema: service.name, ttlSeconds: options.idempotencyKeyTtlSeconds ?? 86_400 });
    }

    // mercurius serializes responses with a schema that turns list indices in error paths into strings; GraphQL
    // says integers, and the gateway passes them on to clients. Plain JSON.stringify keeps them as they are.
    graphqlScope.addHook('onRoute', (routeOptions) => {
      if (routeOptions.schema?.response) {
        const { response: _response, ...schema } = routeOptions.schema;
        routeOptions.schema = schema;
      }
    });

    await graphqlScope.register(mercurius, {
      schema: service.schema,
      path: '/graphql',
      graphiql: false,
      allowBatchedQueries: false,
      context: (request, reply): SubgraphContext => {
        const forwarded = request.gatehouseContext as ForwardedContext;
        // A mutation under an Idempotency-Key writes through its key's transaction.
        const attempt = request.idempotentAttempt;
        return {
          viewer: forwarded.user,
          forwarded,
          db: attempt?.database ?? db,
          afterCommit: async (task) => (attempt ? attempt.afterCommit(task) : void (await task())),
          log: request.log,
          request,
          reply,
          stepUpMaxAgeSeconds,
        };
      },
      errorFormatter: (execution, ctx) => {
        const errors = (execution.errors ?? []).map((error) => {
          const extensions = (error as GraphQLError).extensions ?? {};
          metrics.errors.inc({ code: String(extensions.code ?? 'INTERNAL_SERVER_ERROR') });
          if (extensions.code === 'FORBIDDEN')
            metrics.denials.inc({ rule: String(extensions.rule ?? 'resolver'), reason: String(extensions.reason ?? '') });
          const { error: publicError, masked } = toPublicError(error as GraphQLError);
          if (masked) {
            const cause = (error as GraphQLError).originalError ?? error;
            (ctx as { reply?: { log: FastifyRequest['log'] } }).reply?.log.error(
              { err: cause, path: (error as GraphQLError).path },
              'resolver failed',
            );
          }
          return publicError;
        });
        const hasData = execution.data !== undefined && execution.data !== null;
        return { statusCode: hasData || !errors.length ? 200 : 400, response: { data: execution.data ?? null, errors } };
      },
    });
    graphqlScope.graphql.addHook('preExecution', async (_schema, document, context, variables) => {
      if ((context as unknown as SubgraphContext).request.mayHoldNul) assertNoNulCharacters(document, variables);
    });
    // One structured line per operation, tied to the gateway's request id; never variables or results.
    graphqlScope.graphql.addHook('onResolution', async (execution, context) => {
      const { forwarded, request } = context as unknown as SubgraphContext;
      metrics.operations.observe(
        { outcome: execution.errors?.length ? 'errors' : 'ok' },
        request.startedAt ? (performance.now() - request.startedAt) / 1000 : 0,
      );
      request.log.debug(
        {
          userId: forwarded.user?.id ?? null,
          tenantId: forwarded.user?.tenantId ?? null,
          errors: (execution.errors ?? []).map((error) => error.extensions?.code ?? 'INTERNAL_SERVER_ERROR'),
        },
        'operation resolved',
      );
    });
  });
  return app;
}
