import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHandler } from 'graphql-sse/lib/use/fastify';
import { ErrorCode } from '../auth';
import type { AuthenticationResult } from './authenticateRequest';
import type { LiveConnection, SubscriptionHub } from './createSubscriptionHub';
import { subscriptionError } from './prepareSubscription';
import { refusalBody } from '../service/httpErrors';

export interface EventStreamOptions {
  app: FastifyInstance;
  path: string;
  hub: SubscriptionHub;
  authenticate(rawHeaders: readonly string[]): Promise<AuthenticationResult>;
  log: {
    debug(details: object, message: string): void;
    info(details: object, message: string): void;
    warn(details: object, message: string): void;
  };
}

const STATUS: Partial<Record<string, number>> = {
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.STEP_UP_REQUIRED]: 403,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.SERVICE_UNAVAILABLE]: 503,
  [ErrorCode.INTERNAL_SERVER_ERROR]: 500,
};

function refuse(reply: FastifyReply, status: number, code: string, message: string, reason: string) {
  return reply
    .code(status)
    .type('application/json')
    .send(refusalBody(code, message, reason));
}

/**
 * GraphQL over Server-Sent Events (graphql-sse, distinct connections mode: one subscription per request) at `path`.
 * The token is the request's Authorization header, checked as on POST /graphql; every refusal comes before the
 * stream opens, as an HTTP status with a coded JSON body. The stream ends with a coded error when access ends.
 */
export function serveEventStream(options: EventStreamOptions) {
  const { hub, log } = options;
  const connections = new WeakMap<FastifyRequest, LiveConnection>();
  const handler = createHandler({
    // Distinct connections only: the single-connection mode's reservations (PUT, stream tokens) are not served.
    authenticate: () => null,
    onSubscribe(request, params) {
      const connection = connections.get(request.raw as FastifyRequest)!;
      let opened: ReturnType<SubscriptionHub['subscribe']>;
      try {
        opened = hub.subscribe(connection, params);
      } catch (error) {
        log.warn({ err: error }, 'subscription refused: it could not be prepared');
        opened = { errors: [subscriptionError(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error', 'internal_error')] };
      }
      if ('errors' in opened) {
        const [first] = opened.errors;
        return [
          JSON.stringify({ errors: opened.errors.map((error) => error.toJSON()) }),
          {
            status: STATUS[String(first.extensions.code)] ?? 400,
            statusText: 'Refused',
            headers: { 'content-type': 'application/json; charset=utf-8' },
          },
        ];
      }
      return opened.iterator;
    },
  });

  async function handle(request: FastifyRequest, reply: FastifyReply) {
    if (request.headers.accept !== 'text/event-stream') {
      return refuse(reply, 406, ErrorCode.BAD_USER_INPUT, 'Send "Accept: text/event-stream"', 'accept_event_stream');
    }
    const search = new URL(request.url, 'http://gateway').searchParams;
    if (request.headers['x-graphql-event-stream-token'] !== undefined || search.has('token')) {
      return refuse(
        reply,
        400,
        ErrorCode.BAD_USER_INPUT,
        'Single-connection mode is not served: one subscription per request',
        'single_connection_mode',
      );
    }
    let auth: AuthenticationResult;
    try {
      auth = await options.authenticate(request.raw.rawHeaders);
    } catch (error) {
      log.warn({ err: error }, 'event stream token check failed');
      return refuse(
        reply,
        503,
        ErrorCode.SERVICE_UNAVAILABLE,
        'Token verification is temporarily unavailable',
        'authentication_unavailable',
      );
    }
    if (!auth.ok || !auth.user || !auth.principal) {
      const reason = auth.ok ? 'login_required' : auth.reason;
      log.info({ reason, clientAddress: request.ip }, 'event stream refused before any subscription');
      if (!auth.ok && auth.status === 503) {
        return refuse(reply, 503, ErrorCode.SERVICE_UNAVAILABLE, 'Token verification is temporarily unavailable', reason);
      }
      reply.header('www-authenticate', auth.ok ? 'Bearer' : (auth.wwwAuthenticate ?? 'Bearer'));
      return refuse(reply, auth.ok ? 401 : auth.status, ErrorCode.UNAUTHENTICATED, 'Invalid or missing access token', reason);
    }
    if (!hub.admit(request.ip)) {
      return refuse(reply, 429, ErrorCode.RATE_LIMITED, 'Too many connections', 'connections_per_address');
    }
    const connection = hub.connect({
      transport: 'sse',
      address: request.ip,
      user: auth.user,
      principal: auth.principal,
      // The subscription's last event (its coded error) ends the stream; this only cuts a stream that lingers.
      terminate: () => setTimeout(() => reply.raw.destroyed || reply.raw.end(), 100).unref(),
    });
    connections.set(request, connection);
    reply.raw.once('close', () => {
      hub.disconnect(connection);
      hub.release(request.ip);
    });
    // graphql-sse writes the response itself; a failure of its own is logged and answered coded, never in its words.
    reply.hijack();
    try {
      await handler(request, reply);
    } catch (error) {
      // A client that went away is not a fault: graphql-sse then fails writing to the closed connection.
      if (reply.raw.destroyed || request.raw.destroyed) {
        log.debug({ clientAddress: request.ip }, 'event stream ended: the client went away');
        return;
      }
      log.warn({ err: error }, 'event stream failed');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(refusalBody(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error'));
      } else reply.raw.end();
    }
  }

  options.app.route({ method: ['GET', 'POST'], url: options.path, handler: handle });
}
