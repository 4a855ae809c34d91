import { GraphQLError } from 'graphql';

/**
 * The closed set of error codes a client can see. Every rejection carries one of these in
 * `extensions.code`; anything else is masked as INTERNAL_SERVER_ERROR before it leaves a service.
 * The README documents each one (pinned by test/auth/errors.test.ts).
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  STEP_UP_REQUIRED: 'STEP_UP_REQUIRED',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  // Raised by graphql-js / Apollo Server before execution; passed through unchanged.
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  BAD_REQUEST: 'BAD_REQUEST',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_QUERY_NOT_SUPPORTED',
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
};

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** True when `code` belongs to the public catalogue. */
export function isKnownErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && KNOWN_CODES.has(code);
}

export interface GatehouseErrorOptions {
  /** A stable, machine-readable refinement of the code, e.g. `token_expired`. Never a secret. */
  reason?: string;
  /** Extra public extensions (never internal details). */
  extensions?: Record<string, unknown>;
}

/**
 * Builds a coded GraphQLError. The message is public: keep it free of hosts, SQL and tokens.
 * The HTTP status, where the code implies one, is attached for Apollo Server (`extensions.http`).
 */
export function gatehouseError(code: ErrorCode, message: string, options: GatehouseErrorOptions = {}): GraphQLError {
  const extensions: Record<string, unknown> = { code, ...options.extensions };
  if (options.reason) extensions.reason = options.reason;
  const status = HTTP_STATUS[code];
  if (status) extensions.http = { status };
  return new GraphQLError(message, { extensions });
}

export const unauthenticated = (reason: string, message = 'Authentication required') =>
  gatehouseError(ErrorCode.UNAUTHENTICATED, message, { reason });
/** FORBIDDEN. `rule` names the refusing rule for the subgraph's metrics; it never leaves the service (toPublicError). */
export const forbidden = (reason = 'not_allowed', message = 'Not allowed', rule?: string) =>
  gatehouseError(ErrorCode.FORBIDDEN, message, { reason, ...(rule ? { extensions: { rule } } : {}) });
export const badUserInput = (message: string, reason = 'invalid_input') => gatehouseError(ErrorCode.BAD_USER_INPUT, message, { reason });
export const notFound = (message = 'Not found') => gatehouseError(ErrorCode.NOT_FOUND, message);
export const internalError = () => gatehouseError(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error');

/**
 * The one place that decides what of an error a client may see: coded errors keep their message, code and
 * reason; everything else (a SQL error, a bug, a refused connection naming a host) becomes INTERNAL_SERVER_ERROR.
 * Returns `masked: true` when the original should go to the log.
 */
export function toPublicError(error: {
  message: string;
  extensions?: Record<string, unknown>;
  path?: ReadonlyArray<string | number>;
  locations?: ReadonlyArray<{ line: number; column: number }>;
}): {
  error: {
    message: string;
    extensions: Record<string, unknown>;
    path?: ReadonlyArray<string | number>;
    locations?: ReadonlyArray<{ line: number; column: number }>;
  };
  masked: boolean;
} {
  const code = error.extensions?.code;
  const publicShape = (message: string, extensions: Record<string, unknown>) => ({
    message,
    extensions,
    ...(error.path ? { path: error.path } : {}),
    ...(error.locations ? { locations: error.locations } : {}),
  });
  if (isKnownErrorCode(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
    const extensions: Record<string, unknown> = { code };
    for (const key of ['reason', 'retryAfterSeconds', 'requiredAmr', 'maxAgeSeconds'] as const) {
      if (error.extensions?.[key] !== undefined) extensions[key] = error.extensions[key];
    }
    return { error: publicShape(error.message, extensions), masked: false };
  }
  return { error: publicShape('Internal server error', { code: ErrorCode.INTERNAL_SERVER_ERROR }), masked: true };
}
