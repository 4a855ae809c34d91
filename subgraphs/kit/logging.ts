/**
 * Paths that pino redacts in every service's logs. Request logging is off and the default serializers log no
 * headers; these are the second line of defence if a header object or a credential-bearing field is ever logged.
 */
export const LOG_REDACT_PATHS = {
  paths: [
    'req.headers.authorization',
    'req.headers.cookie',
    'req.headers["gatehouse-context"]',
    'headers.authorization',
    'headers.cookie',
    'headers["gatehouse-context"]',
    '*.password',
    '*.accessToken',
    '*.refreshToken',
    '*.token',
    '*.secret',
  ],
  censor: '[redacted]',
};
