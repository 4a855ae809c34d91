import { CONTEXT_HEADER } from '../auth';

/**
 * Paths that pino redacts in the logs of the gateway and of every subgraph. Request logging is off and the default
 * serializers log no headers; these are the second line of defence if a header object or a credential-bearing field
 * is ever logged. One list for every service, so that none of them drifts.
 */
export const LOG_REDACT = {
  paths: [
    'req.headers.authorization',
    'req.headers.cookie',
    `req.headers["${CONTEXT_HEADER}"]`,
    'headers.authorization',
    'headers.cookie',
    `headers["${CONTEXT_HEADER}"]`,
    '*.password',
    '*.accessToken',
    '*.refreshToken',
    '*.token',
    '*.secret',
  ],
  censor: '[redacted]',
};
