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

/**
 * Answers what no route answers in the house's error shape: an unknown route is NOT_FOUND (`no_such_route`); a
 * request Fastify refuses (bad JSON, an empty body, another media type, too large) is BAD_REQUEST with its status and a
 * reason; anything thrown is logged with the request's logger (its request id and trace id) and answered 500
 * INTERNAL_SERVER_ERROR, with nothing of the error in the response.
 */
export function answerHttpErrors(app: FastifyInstance): void {
  app.setNotFoundHandler((_request, reply) => {
    reply
      .code(404)
      .type('application/json')
      .send(refusalBody('NOT_FOUND', 'No such route', 'no_such_route'));
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      request.log.info({ code: error.code, status }, 'request refused before execution');
      return reply.code(status).type('application/json').send(clientRefusal(error.code));
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).type('application/json').send(refusalBody('INTERNAL_SERVER_ERROR', 'Internal server error'));
  });
}
