import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { Context as TraceContext } from '@opentelemetry/api';
import {
  CONTEXT_HEADER,
  ErrorCode,
  REVOCATIONS_HEADER,
  type ContextSigner,
  type ContextUser,
  type ForwardedContext,
  type Tracing,
} from '../auth';
import type { SubgraphClient } from './createSubgraphClient';
import { failedFetchResponse } from './failedFetchResponse';

/** The per-request state the gateway keeps for its subgraph calls. */
export interface GatewayContext {
  user: ContextUser | null;
  requestId: string;
  clientAddress: string;
  /** The client's refresh cookie (`name=value`), forwarded to the auth subgraph only. */
  refreshCookie?: string;
  /** The request's trace context: each subgraph call is a child span of it. */
  traceContext?: TraceContext;
  /** The client's Idempotency-Key, passed on with the mutations this request sends to subgraphs. */
  idempotencyKey?: string;
  /** References of a mutation that the gateway looked up as the caller and found (verifyReferences), as `lookup:id`. */
  verifiedReferences?: string[];
  /** Filled while the request runs, read when it ends (an object created with the context): the operation's name. */
  stats?: { operation?: string };
  /** Refresh cookies the auth subgraph set, for the gateway's response (an array created with the context). */
  setCookies?: string[];
  /** The request's logger: every line carries its requestId and traceId. */
  log?: DataSourceLogger;
}

/** What the data source of the auth subgraph does besides the others: cookies and announced revocations. */
export interface AuthSubgraphHooks {
  cookieName: string;
  applyRevocations(header: string): void;
}

export interface DataSourceLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

// The planner writes each fetch's operation with its keyword first.
const MUTATION = /^\s*mutation\b/;

const isGraphQLResponse = (value: unknown): value is GatewayGraphQLResponse =>
  typeof value === 'object' && value !== null && ('data' in value || 'errors' in value);

/**
 * Sends one subgraph fetch with a signed context made for that subgraph only. Nothing from the client's HTTP
 * request is copied: a client-sent context header (any case, any number) can never reach a subgraph.
 */
export class SignedContextDataSource implements GraphQLDataSource<GatewayContext> {
  private readonly url: URL;

  constructor(
    private readonly options: {
      name: string;
      url: string;
      signer: ContextSigner;
      client: SubgraphClient;
      log: DataSourceLogger;
      /** Set for the auth subgraph only. */
      auth?: AuthSubgraphHooks;
      tracing?: Tracing;
      /** This subgraph's timeout, when it has its own (SUBGRAPH_<NAME>_TIMEOUT_MS). */
      timeoutMs?: number;
      /** Reports each call's outcome and duration (metrics). */
      observe?: (outcome: 'ok' | 'graphql_errors' | 'unavailable' | 'refused' | 'error', seconds: number) => void;
    },
  ) {
    this.url = new URL(options.url);
  }

  private forwardedContext(context: Partial<GatewayContext>, query: string | undefined): ForwardedContext {
    const forwarded: ForwardedContext = {
      user: context.user ?? null,
      requestId: context.requestId ?? 'gateway-internal',
      clientAddress: context.clientAddress ?? '',
    };
    // Only a mutation fetch carries the key (the entity fetches that follow it are reads), and only a caller's.
    if (context.user && query && MUTATION.test(query)) {
      if (context.idempotencyKey) forwarded.idempotencyKey = context.idempotencyKey;
      if (context.verifiedReferences?.length) forwarded.references = context.verifiedReferences;
    }
    return forwarded;
  }

  /** Applies revocations the auth subgraph announced and keeps its refresh cookie (and no other) for the client. */
  private takeFromAuth(auth: AuthSubgraphHooks, headers: Record<string, string | string[] | undefined>, context: Partial<GatewayContext>) {
    const revocations = headers[REVOCATIONS_HEADER];
    if (typeof revocations === 'string') auth.applyRevocations(revocations);
    const cookies = headers['set-cookie'];
    for (const cookie of Array.isArray(cookies) ? cookies : cookies ? [cookies] : []) {
      if (cookie.startsWith(`${auth.cookieName}=`)) context.setCookies?.push(cookie);
    }
  }

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    const body = JSON.stringify({ query: request.query, variables: request.variables, operationName: request.operationName });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      // A context for this subgraph and this exact body: it cannot be replayed with another query.
      [CONTEXT_HEADER]: this.options.signer.sign(this.forwardedContext(options.context, request.query), this.options.name, body),
    };
    const { auth } = this.options;
    if (auth && options.context.refreshCookie) headers.cookie = options.context.refreshCookie;
    const startedAt = performance.now();
    // W3C trace context: this call is a child span of the request's, its traceparent sent to the subgraph.
    const span = this.options.tracing?.startClientSpan(`subgraph ${this.options.name}`, options.context.traceContext, headers);
    const observe = (outcome: Parameters<NonNullable<typeof this.options.observe>>[0]) => {
      this.options.observe?.(outcome, (performance.now() - startedAt) / 1000);
      span?.setAttribute('gatehouse.outcome', outcome);
      span?.end();
    };
    // A fetch that fails as a whole nulls only its own fields, each with a coded error at its path (partial results).
    const failed = (code: ErrorCode, reason?: string) =>
      failedFetchResponse(request.query, request.variables, {
        code,
        reason,
        message: code === ErrorCode.SERVICE_UNAVAILABLE ? 'A service needed for this field is unavailable' : 'Internal server error',
      });
    let response;
    try {
      // Never retried: a mutation must not run twice, and a query's caller decides whether to ask again.
      response = await this.options.client.post(this.url, headers, body, this.options.timeoutMs);
    } catch (error) {
      observe('unavailable');
      (options.context.log ?? this.options.log).warn({ subgraph: this.options.name, err: error }, 'subgraph unreachable');
      return failed(ErrorCode.SERVICE_UNAVAILABLE, 'subgraph_unavailable');
    }
    let parsed: unknown;
    try {
      parsed = response.contentType?.includes('json') ? JSON.parse(response.body) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.status === 401) {
      // The subgraph refused our signature: a key or clock problem on our side, not the client's.
      observe('refused');
      (options.context.log ?? this.options.log).error({ subgraph: this.options.name, status: 401 }, 'subgraph refused the gateway context');
      return failed(ErrorCode.INTERNAL_SERVER_ERROR);
    }
    if (auth) this.takeFromAuth(auth, response.headers, options.context);
    if (isGraphQLResponse(parsed) && response.status < 500) {
      observe(parsed.errors?.length ? 'graphql_errors' : 'ok');
      return parsed;
    }
    observe('error');
    (options.context.log ?? this.options.log).warn(
      { subgraph: this.options.name, status: response.status },
      'subgraph answered without a GraphQL response',
    );
    return failed(ErrorCode.SERVICE_UNAVAILABLE, 'subgraph_error');
  }
}
