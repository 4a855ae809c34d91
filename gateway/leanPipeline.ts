import { createHash } from 'node:crypto';
import type { GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import {
  GraphQLError,
  Kind,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import Negotiator from 'negotiator';
import type { GatewayContext } from './SignedContextDataSource';

/** A document parsed and validated once against one schema; its operations resolved on first use. */
interface PreparedDocument {
  schema: GraphQLSchema;
  document: DocumentNode;
  queryHash: string;
  /** More than one operation: the executor needs the request's operation name (and hashes it into its plan key). */
  named: boolean;
  /** The operation of a request that names none (null: the document has several, or a subscription). */
  unnamed?: OperationDefinitionNode | null;
  operations: Map<string, OperationDefinitionNode>;
}

/** What the lean path answers; `undefined` from `handle` means Apollo Server answers instead. */
export interface LeanResponse {
  status: number;
  contentType: string;
  headers: ReadonlyMap<string, string>;
  body: string;
}

export interface LeanPipelineOptions {
  /** The rules Apollo Server validates with besides graphql-js's own (query limits, the introspection switch). */
  validationRules: readonly ValidationRule[];
  /** graphql-js's token limit, as Apollo Server's parseOptions. */
  maxTokens: number;
  /** Apollo Server's formatError: what of an error a client sees. */
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  /** Apollo Server's didEncounterErrors hooks: told of every error before it is formatted. */
  onErrors(errors: readonly GraphQLError[], context: GatewayContext): Promise<void> | void;
  /** Apollo Server's didResolveOperation hooks (verifyReferences): run before execution, may fill the context. */
  didResolveOperation(
    operation: OperationDefinitionNode,
    schema: GraphQLSchema,
    variables: Record<string, unknown>,
    context: GatewayContext,
  ): Promise<void>;
  logger: GatewayGraphQLRequestContext['logger'];
  /**
   * Query texts kept parsed and validated, in characters (the whole cache). A parsed document with its locations takes
   * about 110 bytes of heap per character of its text: the default 256 Ki characters hold about 30 MB.
   */
  maxCachedCharacters?: number;
}

const MEDIA_TYPES = {
  json: 'application/json; charset=utf-8',
  graphqlResponse: 'application/graphql-response+json; charset=utf-8',
  callback: 'application/json; callbackSpec=1.0; charset=utf-8',
};
const JSON_CONTENT = /^application\/json\s*(?:;|$)/i;
const NO_HEADERS: ReadonlyMap<string, string> = new Map();

const queryOrMutation = (operation: OperationDefinitionNode | null | undefined) =>
  operation && operation.operation !== 'subscription' ? operation : null;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

// Apollo Server turns the gateway's variable coercion errors into BAD_USER_INPUT (its requestPipeline).
function isVariableCoercionError(error: GraphQLError) {
  const node = error.nodes?.length === 1 ? error.nodes[0] : undefined;
  if (node?.kind !== Kind.VARIABLE_DEFINITION) return false;
  const variable = `Variable "$${node.variable.name.value}" `;
  return ['has invalid value', 'got invalid value ', 'of required type ', 'of non-null type '].some((rest) =>
    error.message.startsWith(variable + rest),
  );
}

/**
 * The production path of a GraphQL request: from Fastify to a document parsed, validated (with the query limits) and
 * resolved once per query text, then straight to Apollo Gateway's executor (planning cached by the gateway), with no
 * per-request work that could be done once per document. It answers only what it answers exactly as Apollo Server
 * would: a POST of JSON with a query that parses and validates, names an operation that exists, and is a query or a
 * mutation, with an Accept header that admits JSON. Everything else — GET, persisted queries, batches, CSRF
 * checks, syntax and validation errors with their messages, the landing page — returns `undefined` and goes to Apollo
 * Server, which stays the reference: test/e2e/leanPipeline.test.ts sends the same requests down both paths.
 */
export function createLeanPipeline(options: LeanPipelineOptions) {
  let schema: GraphQLSchema | undefined;
  let executor: GatewayExecutor | undefined;
  const rules = [...specifiedRules, ...options.validationRules];
  // Rejected texts are kept too (as false): a client repeating an invalid query costs one lookup before Apollo Server.
  const documents = new LRUCache<string, PreparedDocument | false>({
    maxSize: options.maxCachedCharacters ?? 256 * 1024,
    sizeCalculation: (_value, query) => Math.max(1, query.length),
  });
  const contentTypes = new Map<string, string | null>();

  function prepare(query: string): PreparedDocument | false {
    const current = schema!;
    const cached = documents.get(query);
    if (cached !== undefined && (cached === false || cached.schema === current)) return cached;
    let prepared: PreparedDocument | false = false;
    try {
      const document = parse(query, { maxTokens: options.maxTokens });
      if (!validate(current, document, rules).length) {
        prepared = {
          schema: current,
          document,
          queryHash: createHash('sha256').update(query).digest('hex'),
          named: document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION).length > 1,
          operations: new Map(),
        };
      }
    } catch {
      prepared = false; // a syntax error: Apollo Server words it
    }
    documents.set(query, prepared);
    return prepared;
  }

  // The operation a request names (null: the document's only one), resolved once; a name the document lacks is not
  // kept (a client cannot grow the map), nor is a subscription (Apollo Server refuses it).
  function operationOf(prepared: PreparedDocument, name: string | null) {
    if (name === null) {
      if (prepared.unnamed === undefined) prepared.unnamed = queryOrMutation(getOperationAST(prepared.document));
      return prepared.unnamed;
    }
    const cached = prepared.operations.get(name);
    if (cached) return cached;
    const operation = queryOrMutation(getOperationAST(prepared.document, name));
    if (operation) prepared.operations.set(name, operation);
    return operation;
  }

  // Apollo Server's content negotiation, once per distinct Accept header.
  function contentTypeFor(accept: string | undefined) {
    if (!accept) return MEDIA_TYPES.json;
    let type = contentTypes.get(accept);
    if (type === undefined) {
      type =
        new Negotiator({ headers: { accept } }).mediaType([MEDIA_TYPES.json, MEDIA_TYPES.graphqlResponse, MEDIA_TYPES.callback]) ?? null;
      if (contentTypes.size >= 200) contentTypes.clear();
      contentTypes.set(accept, type);
    }
    return type;
  }

  /** Apollo Server's error normalisation: a code on every error, `extensions.http` into the response head. */
  function formatErrors(errors: readonly GraphQLError[]) {
    let status: number | undefined;
    let headers: Map<string, string> | undefined;
    const formatted = errors.map((error) => {
      try {
        const extensions: Record<string, unknown> = { ...error.extensions, code: error.extensions.code ?? 'INTERNAL_SERVER_ERROR' };
        const http = extensions.http as { status?: unknown; headers?: unknown } | undefined;
        if (
          isRecord(http) &&
          (!('status' in http) || typeof http.status === 'number') &&
          (!('headers' in http) || http.headers instanceof Map)
        ) {
          if (typeof http.status === 'number') status = http.status;
          if (http.headers instanceof Map) for (const [name, value] of http.headers) (headers ??= new Map()).set(name, value);
          delete extensions.http;
        }
        return options.formatError({ ...error.toJSON(), extensions }, error);
      } catch {
        return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
      }
    });
    return { formatted, status, headers };
  }

  // As Apollo Server's sendErrorResponse, for what throws before a result: the error (masked by formatError), and 500
  // unless it names a status.
  async function failure(thrown: unknown, context: GatewayContext, contentType: string): Promise<LeanResponse> {
    const error =
      thrown instanceof GraphQLError
        ? thrown
        : new GraphQLError(thrown instanceof Error ? thrown.message : `Unexpected error value: ${String(thrown)}`, {
            originalError: thrown instanceof Error ? thrown : undefined,
          });
    await options.onErrors([error], context);
    const { formatted, status, headers } = formatErrors([error]);
    return { status: status ?? 500, contentType, headers: headers ?? NO_HEADERS, body: JSON.stringify({ errors: formatted }) + '\n' };
  }

  return {
    /** Wraps the gateway Apollo Server loads, to share its executor and follow its schema. */
    attach(gateway: GatewayInterface): GatewayInterface {
      gateway.onSchemaLoadOrUpdate(({ apiSchema }) => {
        schema = apiSchema;
        documents.clear();
      });
      return {
        onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
        async load(loadOptions) {
          const loaded = await gateway.load(loadOptions);
          executor = loaded.executor ?? undefined;
          return loaded;
        },
        stop: () => gateway.stop(),
      };
    },

    /** Answers a request on the lean path, or returns undefined for Apollo Server to answer it. */
    async handle(
      request: { method: string; contentType: string | undefined; accept: string | undefined; body: unknown },
      context: GatewayContext,
    ): Promise<LeanResponse | undefined> {
      if (!executor || !schema || request.method !== 'POST' || !request.contentType || !JSON_CONTENT.test(request.contentType)) return;
      const body = request.body;
      if (!isRecord(body) || typeof body.query !== 'string' || !body.query) return;
      const { query, operationName = null, variables = null, extensions = null } = body;
      if (operationName !== null && typeof operationName !== 'string') return;
      if (variables !== null && !isRecord(variables)) return;
      if (extensions !== null && (!isRecord(extensions) || 'persistedQuery' in extensions)) return;
      const contentType = contentTypeFor(request.accept);
      if (!contentType) return;
      const prepared = prepare(query);
      if (!prepared) return;
      const operation = operationOf(prepared, operationName);
      if (!operation) return;

      if (context.stats) context.stats.operation = operation.name?.value;
      try {
        await options.didResolveOperation(operation, prepared.schema, variables ?? {}, context);
      } catch (thrown) {
        return failure(thrown, context, contentType);
      }
      let responseHead: unknown;
      const requestContext = {
        request: {
          query,
          // Of a document with one operation, the name adds nothing but a hash per request to the executor's plan key.
          ...(operationName !== null && prepared.named ? { operationName } : {}),
          ...(variables !== null ? { variables } : {}),
          ...(extensions !== null ? { extensions } : {}),
        },
        // Nothing on this path reads or writes the response head; made only if something does.
        get response() {
          return (responseHead ??= { http: { headers: new Headers(), status: undefined } });
        },
        logger: options.logger,
        schema: prepared.schema,
        schemaHash: '',
        context,
        cache: undefined,
        queryHash: prepared.queryHash,
        document: prepared.document,
        source: query,
        operationName: operation.name?.value ?? null,
        operation,
        metrics: {},
        overallCachePolicy: undefined,
        requestIsBatched: false,
      } as unknown as GatewayGraphQLRequestContext<GatewayContext>;

      let result: Awaited<ReturnType<GatewayExecutor>>;
      try {
        result = await executor(requestContext);
      } catch (thrown) {
        return failure(thrown, context, contentType);
      }

      let errors = result.errors as readonly GraphQLError[] | undefined;
      if (!errors?.length) {
        return {
          status: 200,
          contentType,
          headers: NO_HEADERS,
          body: JSON.stringify({ data: result.data, extensions: result.extensions }) + '\n',
        };
      }
      errors = errors.map((error) =>
        isVariableCoercionError(error) && error.extensions?.code == null
          ? new GraphQLError(error.message, {
              nodes: error.nodes,
              source: error.source,
              positions: error.positions,
              path: error.path,
              originalError: error.originalError,
              extensions: { ...error.extensions, code: 'BAD_USER_INPUT' },
            })
          : error,
      );
      await options.onErrors(errors, context);
      const { formatted, status, headers } = formatErrors(errors);
      return {
        status: status ?? (result.data === undefined ? 400 : 200),
        contentType,
        headers: headers ?? NO_HEADERS,
        body: JSON.stringify({ errors: formatted, data: result.data, extensions: result.extensions }) + '\n',
      };
    },
  };
}
