import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type GraphQLFormattedError } from 'graphql';
import Negotiator from 'negotiator';
import { ErrorCode, gatehouseError, isKnownErrorCode, toPublicError } from '../auth';
import type { GatewayContext } from './SignedContextDataSource';

/** Where subscriptions are served: the answer to a subscription sent as a plain HTTP request. */
export const SUBSCRIPTIONS_ARE_ELSEWHERE =
  'Subscriptions are served over WebSocket (graphql-ws) on /graphql and over SSE on /graphql/stream, not as a plain HTTP request';

/** The answer to an Accept header that admits no JSON answer (406, `not_acceptable`). */
export const NOT_ACCEPTABLE = `The Accept header admits neither application/json nor application/graphql-response+json. ${SUBSCRIPTIONS_ARE_ELSEWHERE.replace(', not as a plain HTTP request', '')}`;

// Apollo Server's words for a client's mistake, and the reason each is answered with. Where its message would mislead
// (or names no code at all), ours replaces it. Matched on the start of the message.
const APOLLO_CLIENT_ERRORS: ReadonlyArray<{ startsWith: string; reason: string; message?: string }> = [
  {
    startsWith: 'provided sha does not match query',
    reason: 'persisted_query_hash_mismatch',
    message: 'The persisted query hash does not match the query',
  },
  {
    startsWith: 'Unsupported persisted query version',
    reason: 'persisted_query_version_unsupported',
    message: 'Only version 1 of persisted queries is supported',
  },
  {
    startsWith: 'GET requests only support query operations, not subscription',
    reason: 'subscription_over_http',
    message: SUBSCRIPTIONS_ARE_ELSEWHERE,
  },
  { startsWith: 'GET requests only support query operations', reason: 'method_not_allowed' },
  { startsWith: 'This operation has been blocked as a potential Cross-Site Request Forgery', reason: 'csrf_prevention' },
  { startsWith: 'Operation batching disabled', reason: 'batching_disabled' },
  { startsWith: "An 'accept' header was provided", reason: 'not_acceptable', message: NOT_ACCEPTABLE },
  { startsWith: 'Apollo server received an operation that uses incremental delivery', reason: 'not_acceptable' },
  { startsWith: 'GraphQL operations must contain a non-empty `query`', reason: 'missing_query' },
  { startsWith: 'GraphQL queries must be strings', reason: 'invalid_query' },
  { startsWith: 'POST body missing', reason: 'missing_body' },
  { startsWith: '`variables`', reason: 'invalid_variables' },
  { startsWith: '`extensions`', reason: 'invalid_extensions' },
  { startsWith: '`operationName`', reason: 'invalid_operation_name' },
  { startsWith: 'The variables search parameter', reason: 'invalid_variables' },
  { startsWith: 'The extensions search parameter', reason: 'invalid_extensions' },
  { startsWith: 'GET requests may not have a content-type', reason: 'unsupported_media_type' },
  { startsWith: 'Apollo Server supports only GET/POST', reason: 'method_not_allowed' },
];

/** The HTTP status an error asks for (Apollo Server's `extensions.http.status`), if any. */
function requestedStatus(error: unknown): number | undefined {
  const http = (error as { extensions?: { http?: { status?: unknown } } } | null)?.extensions?.http;
  return typeof http?.status === 'number' ? http.status : undefined;
}

export type ErrorClass = 'coded' | 'client' | 'masked';

/**
 * What a client sees of an error, and what kind it is:
 * - `client`: a client's mistake that Apollo Server or Apollo Gateway raised with a 4xx status (or BAD_REQUEST): it
 *   keeps its status and is answered BAD_REQUEST (or its own client code) with a stable reason; logged at info level;
 * - `coded`: an error of the closed set raised by us, passed through (toPublicError);
 * - `masked`: anything else, answered INTERNAL_SERVER_ERROR; its cause goes to the error log.
 * `formatted` is the error as Apollo Server formats it, `original` the error raised.
 */
export function classifyError(formatted: GraphQLFormattedError, original: unknown): { error: GraphQLFormattedError; kind: ErrorClass } {
  const status = requestedStatus(original);
  const code = formatted.extensions?.code;
  const isClientStatus = status !== undefined && status >= 400 && status < 500;
  if (isClientStatus || code === ErrorCode.BAD_REQUEST) {
    const known = APOLLO_CLIENT_ERRORS.find((entry) => formatted.message.startsWith(entry.startsWith));
    const clientCode = isKnownErrorCode(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR ? code : ErrorCode.BAD_REQUEST;
    if (known || clientCode === ErrorCode.BAD_REQUEST) {
      const extensions = {
        ...formatted.extensions,
        code: clientCode,
        reason: formatted.extensions?.reason ?? known?.reason ?? 'bad_request',
      };
      return { error: toPublicError({ ...formatted, message: known?.message ?? formatted.message, extensions }).error, kind: 'client' };
    }
    return { error: toPublicError(formatted).error, kind: 'client' };
  }
  const { error, masked } = toPublicError(formatted);
  return { error, kind: masked ? 'masked' : 'coded' };
}

/**
 * Refuses, before anything executes, what Apollo Gateway cannot run: an operation name the document does not define
 * (or none, for a document with several) is OPERATION_RESOLUTION_FAILURE (400), and a subscription is BAD_REQUEST
 * (`subscription_over_http`, 400) saying where subscriptions are served. Apollo Gateway's executor would throw on
 * both, which Apollo Server answers 500.
 */
export function refuseUnresolvableOperations(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request }) {
          if (!operation) {
            const name = request.operationName;
            const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION).length;
            const message = name
              ? `Unknown operation named "${name}".`
              : operations > 1
                ? 'Must provide operation name if query contains multiple operations.'
                : 'The document has no operation.';
            throw gatehouseError(ErrorCode.OPERATION_RESOLUTION_FAILURE, message, {
              reason: name ? 'unknown_operation_name' : 'operation_name_required',
              extensions: { http: { status: 400 } },
            });
          }
          if (operation.operation === 'subscription') {
            throw gatehouseError(ErrorCode.BAD_REQUEST, SUBSCRIPTIONS_ARE_ELSEWHERE, {
              reason: 'subscription_over_http',
              extensions: { http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

const ANSWERS = ['application/json', 'application/graphql-response+json'];
const ANSWERS_OR_PAGE = [...ANSWERS, 'text/html'];

/**
 * False when the request's Accept header admits no answer the gateway gives: JSON, or (a GET, where the landing page is
 * served) HTML. Checked before anything executes: Apollo Server checks it only once the operation has run, so a
 * mutation would commit and then answer 406.
 */
export function isAcceptable(method: string, accept: string | undefined, servesLandingPage: boolean): boolean {
  if (!accept) return true;
  const offered = servesLandingPage && method === 'GET' ? ANSWERS_OR_PAGE : ANSWERS;
  return new Negotiator({ headers: { accept } }).mediaType(offered) !== undefined;
}
