import { ApolloServer, type GraphQLResponse } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { FastifyBaseLogger } from 'fastify';
import { NoSchemaIntrospectionCustomRule, type FormattedExecutionResult, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import { classifyError, refuseUnresolvableOperations } from './clientErrors';
import type { GatewayConfig } from './config';
import { withExplorerLink } from './explorer';
import { createLeanPipeline } from './leanPipeline';
import type { GatewayContext } from './SignedContextDataSource';
import { createReferenceVerifier, referenceMapOf, verifyReferences, type ReferenceMap } from './verifyReferences';

export interface GraphQLServerOptions {
  config: GatewayConfig;
  /** The gateway that plans and executes (Apollo Gateway, behind the authorization filter). */
  gateway: GatewayInterface;
  log: FastifyBaseLogger;
}

/**
 * The GraphQL side of the gateway, between Fastify and Apollo Gateway: the query limits (graphql-armor and
 * graphql-js's token limit), error masking and its log, `@references` checks before mutations, the lean path for
 * POSTed JSON operations and Apollo Server for everything else. `execute` runs an operation as a given caller (the
 * subscriptions' lookups), on the lean path where it is on.
 */
export function createGraphQLServer(options: GraphQLServerOptions) {
  const { config, gateway, log } = options;

  // Where the supergraph's `@references` stand, kept current as the supergraph reloads.
  let referenceMap: ReferenceMap = new Map();
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    referenceMap = referenceMapOf(coreSupergraphSdl);
  });

  // Query limits run as validation rules: an abusive operation is refused before any plan or subgraph call. The
  // token limit is graphql-js's own parse option (below): armor's version parses every new query a second time, in
  // a plugin hook, and turns a plain syntax error into GRAPHQL_VALIDATION_FAILED.
  const armor = new ApolloArmor({
    maxDepth: { n: config.MAX_DEPTH, ignoreIntrospection: true },
    maxAliases: { n: config.MAX_ALIASES },
    maxTokens: { enabled: false },
    maxDirectives: { n: config.MAX_DIRECTIVES },
    costLimit: { maxCost: config.MAX_COST, ignoreIntrospection: true },
    blockFieldSuggestion: { enabled: config.isProduction },
  }).protect();
  /** What validates an operation besides graphql-js's rules, on the lean path and for subscriptions. */
  const validationRules = [...(config.introspection ? [] : [NoSchemaIntrospectionCustomRule]), ...armor.validationRules];

  // What is masked is logged with the request's logger (its requestId and traceId), with its cause. A client's mistake
  // is not a fault: the /graphql route logs its refusal at info level, without a stack.
  const formatError = (formatted: GraphQLFormattedError, error: unknown) => classifyError(formatted, error).error;
  const logErrors = (errors: readonly GraphQLError[], contextValue: GatewayContext) => {
    for (const error of errors) {
      if (classifyError(error, error).kind === 'masked')
        (contextValue.log ?? log).error({ err: error.originalError ?? error }, 'request failed');
    }
  };
  const verifyMutationReferences = createReferenceVerifier({
    references: () => referenceMap,
    lookup: async (query, variables, contextValue): Promise<unknown> => {
      const result: GraphQLResponse = await server.executeOperation({ query, variables }, { contextValue });
      return result.body.kind === 'single' ? result.body.singleResult.data : undefined;
    },
  });

  // The production path for POSTed JSON operations; Apollo Server answers the rest (and everything with 'apollo').
  const lean =
    config.GRAPHQL_PIPELINE === 'lean'
      ? createLeanPipeline({
          validationRules,
          maxTokens: config.MAX_TOKENS,
          formatError,
          onErrors: async (errors, contextValue) => {
            // armor's hooks (field suggestions hidden in production), then the log, as Apollo Server runs them.
            for (const plugin of armor.plugins) {
              const listener = await plugin.requestDidStart?.({ contextValue } as never);
              await listener?.didEncounterErrors?.({ errors, contextValue } as never);
            }
            logErrors(errors, contextValue);
          },
          didResolveOperation: verifyMutationReferences,
          logger: log,
        })
      : undefined;

  const server: ApolloServer<GatewayContext> = new ApolloServer<GatewayContext>({
    gateway: lean ? lean.attach(gateway) : gateway,
    validationRules: armor.validationRules,
    // Over the limit the parser stops at once: GRAPHQL_PARSE_FAILED (400), like any syntax error.
    parseOptions: { maxTokens: config.MAX_TOKENS },
    logger: log,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: config.isProduction,
    csrfPrevention: true,
    // Signals are the process's (service/shutdown.ts): Apollo Server's own handler would stop it and re-raise the
    // signal, killing the process before the requests in flight have drained.
    stopOnTerminationSignals: false,
    allowBatchedHttpRequests: false,
    formatError,
    plugins: [
      ...armor.plugins,
      refuseUnresolvableOperations(),
      verifyReferences(verifyMutationReferences),
      {
        async requestDidStart() {
          return {
            // The operation's name, once the document is parsed (never the client's claim about it).
            async didResolveOperation(requestContext) {
              const stats = requestContext.contextValue.stats;
              if (stats) stats.operation = requestContext.operationName ?? undefined;
            },
            // An error the client only sees as INTERNAL_SERVER_ERROR: its cause goes to the log, tied to the request.
            async didEncounterErrors(requestContext) {
              logErrors(requestContext.errors, requestContext.contextValue);
            },
          };
        },
      },
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      config.isProduction
        ? ApolloServerPluginLandingPageDisabled()
        : withExplorerLink(ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })),
    ],
  });

  async function execute(
    query: string,
    variables: Record<string, unknown> | undefined,
    contextValue: GatewayContext,
  ): Promise<FormattedExecutionResult> {
    // The lean path where it is on (the same answer as Apollo Server's, for less): the lookup is a POSTed query.
    const leanAnswer = await lean?.handle(
      { method: 'POST', contentType: 'application/json', accept: 'application/json', body: { query, variables } },
      contextValue,
    );
    if (leanAnswer) return JSON.parse(leanAnswer.body) as FormattedExecutionResult;
    const result = await server.executeOperation<Record<string, unknown>>({ query, variables }, { contextValue });
    return result.body.kind === 'single'
      ? result.body.singleResult
      : { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] };
  }

  return { server, lean, validationRules, execute };
}
export type GraphQLServer = ReturnType<typeof createGraphQLServer>;
