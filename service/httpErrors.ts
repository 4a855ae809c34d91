import type { IncomingMessage } from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';

/**
 * The JSON body of a refusal answered before any execution: one error with its code, its reason when there is one,
 * and any further public extensions (e.g. `retryAfterSeconds`).
 */
export function refusalBody(code: string, message: string, reason?: string, more?: Record<string, unknown>): string {
  return JSON.stringify({ errors: [{ message, extensions: reason === undefined ? { code, ...more } : { code, reason, ...more } }] });
}

// Fastify's own refusals of a malformed request, in our words: its messages are not part of our contract.
const CLIENT_ERRORS: Record<string, { reason: string; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { reason: 'invalid_json', message: 'The body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { reason: 'empty_body', message: 'The body is empty' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { reason: 'unsupported_media_type', message: 'Send the request as application/json' },
  FST_ERR_CTP_BODY_TOO_LARGE: { reason: 'body_too_large', message: 'The body is too large' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { reason: 'invalid_content_length', message: 'Content-Length does not match the body' },
};

/** How a request Fastify refused (its error code) is answered: BAD_REQUEST with a reason, in our words. */
export function clientRefusal(fastifyCode: string | undefined): string {
  const known = fastifyCode ? CLIENT_ERRORS[fastifyCode] : undefined;
  return refusalBody('BAD_REQUEST', known?.message ?? 'Bad request', known?.reason ?? 'bad_request');
}

export interface HttpErrorOptions {
  /** What is read and discarded of an over-limit body before its 413 is sent, in bytes (default 32 MiB)… */
  discardMaxBytes?: number;
  /** …and in time (default 10 s). Past either, the 413 is sent and the connection closed. */
  discardMaxMs?: number;
}

/**
 * Reads and discards what is left of a request's body, until it ends or `maxBytes` or `maxMs` is passed. A client
 * that writes its whole body before it reads the answer (most do, past a few MB) gets a reset instead of the answer
 * when the server closes on unread data.
 */
export function discardRequestBody(request: IncomingMessage, maxBytes: number, maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (request.readableEnded || request.destroyed) return resolve();
    let received = 0;
    const done = () => {
      clearTimeout(timer);
      request.off('data', count);
      request.off('end', done);
      request.off('error', done);
      request.off('close', done);
      resolve();
    };
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) done();
    };
    const timer = setTimeout(done, maxMs);
    request.on('data', count);
    request.once('end', done);
    request.once('error', done);
    request.once('close', done);
    request.resume();
  });
}

/**
 * Answers what no route answers in the house's error shape: an unknown route is NOT_FOUND (`no_such_route`); a
 * request Fastify refuses (bad JSON, an empty body, another media type, too large) is BAD_REQUEST with its status and a
 * reason; anything thrown is logged with the request's logger (its request id and trace id) and answered 500
 * INTERNAL_SERVER_ERROR, with nothing of the error in the response. The rest of an over-limit body is read and
 * discarded (within bounds) before the 413, so that a client still sending receives it; the connection then closes.
 */
export function answerHttpErrors(app: FastifyInstance, options: HttpErrorOptions = {}): void {
  const discardMaxBytes = options.discardMaxBytes ?? 32 * 1024 * 1024;
  const discardMaxMs = options.discardMaxMs ?? 10_000;
  app.setNotFoundHandler((_request, reply) => {
    reply
      .code(404)
      .type('application/json')
      .send(refusalBody('NOT_FOUND', 'No such route', 'no_such_route'));
  });
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      request.log.info({ code: error.code, status }, 'request refused before execution');
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        await discardRequestBody(request.raw, discardMaxBytes, discardMaxMs);
        reply.header('connection', 'close');
      }
      return reply.code(status).type('application/json').send(clientRefusal(error.code));
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).type('application/json').send(refusalBody('INTERNAL_SERVER_ERROR', 'Internal server error'));
  });
}
