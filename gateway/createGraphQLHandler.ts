import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { CONTEXT_HEADER, IDEMPOTENCY_KEY, REFRESH_COOKIE_NAME, readRefreshCookie, type ContextUser, type Tracing } from '../auth';
import { refusalBody } from '../service/httpErrors';
import type { AuthenticationResult } from './authenticateRequest';
import { NOT_ACCEPTABLE, isAcceptable } from './clientErrors';
import type { RateLimits } from './createRateLimits';
import type { GraphQLServer } from './createGraphQLServer';
import type { GatewayMetrics } from './metrics';
import type { GatewayContext } from './SignedContextDataSource';

export interface GraphQLHandlerOptions {
  /** Who the request speaks for, from its raw headers (authenticateRequest with this gateway's verifier and sets). */
  authenticate(rawHeaders: readonly string[]): Promise<AuthenticationResult>;
  rateLimits: RateLimits;
  graphql: Pick<GraphQLServer, 'server' | 'lean'>;
  metrics: GatewayMetrics;
  tracing: Tracing;
  log: FastifyBaseLogger;
  /** Development: a request with `Apollo-Query-Plan-Experimental` goes to Apollo Server, which adds the query plan. */
  exposesQueryPlans: boolean;
  /** Development: a GET asking for HTML is answered with Apollo Server's landing page. */
  servesLandingPage: boolean;
  /** Benchmark only: skip token checks and sign this identity for every request. */
  staticIdentity?: ContextUser;
}

/**
 * The `/graphql` route: the request's id, trace span and logger; its token (refusals answer 401, 400 or 503 with no
 * subgraph call); its Idempotency-Key and rate limits; then the lean path, or Apollo Server for what the lean path
 * does not answer.
 */
export function createGraphQLHandler(options: GraphQLHandlerOptions) {
  const { authenticate, rateLimits, metrics, tracing, log, staticIdentity, exposesQueryPlans, servesLandingPage } = options;
  const { server, lean } = options.graphql;

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

  return async function handleGraphQL(request: FastifyRequest, reply: FastifyReply) {
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
    const auth = staticIdentity
      ? ({ ok: true, user: staticIdentity, principal: null } as const)
      : await authenticate(request.raw.rawHeaders);
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
        .send(refusalBody('RATE_LIMITED', 'Too many requests', `${limit.scope}_limit`, { retryAfterSeconds: limit.retryAfterSeconds }));
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
    const finish = (status: number, body?: string) => {
      if (context.setCookies?.length) reply.header('set-cookie', context.setCookies);
      reply.code(status);
      if (status >= 400 && status < 500 && body !== undefined) logRefusal(requestLog, status, body);
      else requestLog.debug({ status, userId: auth.user?.id ?? null, tenantId: auth.user?.tenantId ?? null }, 'request executed');
    };

    const wantsQueryPlan = exposesQueryPlans && request.headers['apollo-query-plan-experimental'] !== undefined;
    const leanResponse = wantsQueryPlan
      ? undefined
      : await lean?.handle(
          { method: request.method, contentType: request.headers['content-type'], accept: request.headers.accept, body: request.body },
          context,
        );
    if (leanResponse) {
      servedLean.inc();
      for (const [name, value] of leanResponse.headers) reply.header(name, value);
      reply.header('content-type', leanResponse.contentType);
      finish(leanResponse.status, leanResponse.body);
      return reply.send(leanResponse.body);
    }

    if (!isAcceptable(request.method, request.headers.accept, servesLandingPage)) {
      const body = refusalBody('BAD_REQUEST', NOT_ACCEPTABLE, 'not_acceptable');
      logRefusal(requestLog, 406, body);
      return reply.code(406).type('application/json').send(body);
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
    if (response.body.kind === 'complete') {
      finish(response.status ?? 200, response.body.string);
      return reply.send(response.body.string);
    }
    finish(response.status ?? 200);
    return reply.send(Readable.from(response.body.asyncIterator));
  };
}

/**
 * A request refused with a 4xx (a client's mistake: an unknown operation, a bad persisted query hash, CSRF, …): one
 * info line with its code and reason, never a stack, so a client cannot fill the error log.
 */
function logRefusal(log: FastifyBaseLogger, status: number, body: string) {
  let first: { extensions?: { code?: unknown; reason?: unknown } } | undefined;
  try {
    first = (JSON.parse(body) as { errors?: Array<typeof first> }).errors?.[0];
  } catch {
    // not JSON (Apollo Server's landing page is HTML, and 2xx): nothing to name
  }
  log.info({ status, code: first?.extensions?.code, reason: first?.extensions?.reason }, 'request refused');
}
