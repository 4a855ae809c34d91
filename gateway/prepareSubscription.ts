import {
  GraphQLError,
  Kind,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
} from 'graphql';
import { getArgumentValues, getVariableValues } from 'graphql/execution/values';
import {
  ErrorCode,
  decide,
  gatehouseError,
  hasRecentSecondFactor,
  hasScope,
  readRequirements,
  refusalError,
  toPublicError,
  type ContextUser,
  type Requirement,
} from '../auth';
import { EVENT_ID_VARIABLE, buildLookupQuery, liveFieldsOf, type LiveFieldMap } from './liveFields';

/** What a subscriber is told: the public shape only (no HTTP status, no internal extensions). */
const publicError = (error: GraphQLError) => {
  const shown = toPublicError(error).error;
  return new GraphQLError(shown.message, { extensions: shown.extensions });
};
/** A coded error for a subscriber (`extensions.code` and `reason`). */
export const subscriptionError = (code: ErrorCode, message: string, reason: string) =>
  publicError(gatehouseError(code, message, { reason }));

/** Subscription texts kept parsed and validated, in characters. */
const MAX_CACHED_CHARS = 1_000_000;

/** A subscribe request that passed every check: what the hub needs to serve it. */
export interface PreparedSubscription {
  document: DocumentNode;
  /** The subscription field, its `@event` topic, and the response key the client chose. */
  field: string;
  topic: string;
  responseKey: string;
  /** The field's `id` argument: only that object's events. */
  onlyId: string | null;
  /** The query run for each event (one per query text, numbered so that equal lookups are recognised cheaply). */
  lookup: { id: number; query: string };
  variables: Record<string, unknown>;
  variablesKey: string;
}

/**
 * Checks subscribe requests against the supergraph: parse (with the token limit), validation (graphql-js's rules and
 * the gateway's query limits), one `@event` field selected directly, its authorization for the caller, variables;
 * builds the lookup query. Documents and lookups are cached per query text.
 */
export function createSubscriptionPreparer(options: {
  validationRules: readonly ValidationRule[];
  maxTokens: number;
  stepUpMaxAgeSeconds: number;
  now?: () => number;
}) {
  const now = options.now ?? Date.now;
  const rules: readonly ValidationRule[] = [...specifiedRules, ...options.validationRules];
  let schema: GraphQLSchema | undefined;
  let liveFields: LiveFieldMap = new Map();
  let requirements: ReadonlyMap<string, Requirement> = new Map();
  const documents = new Map<string, { document: DocumentNode } | { errors: readonly GraphQLError[] }>();
  let documentChars = 0;
  const lookups = new Map<string, { id: number; query: string }>();
  let nextLookupId = 0;

  function documentOf(query: string): { document: DocumentNode } | { errors: readonly GraphQLError[] } {
    let known = documents.get(query);
    if (known) return known;
    try {
      const document = parse(query, { maxTokens: options.maxTokens });
      const errors = validate(schema!, document, rules);
      known = errors.length
        ? { errors: errors.map((error) => subscriptionError(ErrorCode.GRAPHQL_VALIDATION_FAILED, error.message, 'invalid_operation')) }
        : { document };
    } catch (error) {
      known = { errors: [subscriptionError(ErrorCode.GRAPHQL_PARSE_FAILED, (error as Error).message, 'syntax_error')] };
    }
    // Bounded by characters, not entries: a text may be up to the WebSocket message limit.
    if (documentChars + query.length > MAX_CACHED_CHARS) {
      documents.clear();
      documentChars = 0;
    }
    documents.set(query, known);
    documentChars += query.length;
    return known;
  }

  /** The refusal of the subscription field itself for `user`, if any (deny when it has no rule). */
  function refusalOf(field: string, user: ContextUser): GraphQLError | undefined {
    const requirement = requirements.get(`Subscription.${field}`);
    const caller = {
      authenticated: true,
      hasScope: (scope: string) => hasScope(user, scope),
      steppedUp: hasRecentSecondFactor(user, options.stepUpMaxAgeSeconds, now()),
    };
    const decision = requirement ? decide(requirement, caller) : ({ outcome: 'deny', code: 'FORBIDDEN', reason: 'no_rule' } as const);
    return decision.outcome === 'deny' ? publicError(refusalError(decision, options.stepUpMaxAgeSeconds)) : undefined;
  }

  return {
    /** The supergraph's API schema and SDL, as the gateway loads or updates them. */
    setSchema(apiSchema: GraphQLSchema, supergraphSdl: string) {
      schema = apiSchema;
      liveFields = liveFieldsOf(supergraphSdl);
      requirements = readRequirements(parse(supergraphSdl));
      documents.clear();
      documentChars = 0;
      lookups.clear();
    },
    get schema() {
      return schema;
    },

    refusalOf,

    prepare(
      request: { query?: unknown; variables?: unknown; operationName?: unknown },
      user: ContextUser,
    ): { errors: readonly GraphQLError[] } | PreparedSubscription {
      const refuse = (code: ErrorCode, message: string, reason: string) => ({ errors: [subscriptionError(code, message, reason)] });
      if (!schema) return refuse(ErrorCode.SERVICE_UNAVAILABLE, 'The schema is not loaded yet', 'schema_not_loaded');
      if (typeof request.query !== 'string') return refuse(ErrorCode.BAD_USER_INPUT, 'The request has no query', 'query_missing');
      const parsed = documentOf(request.query);
      if ('errors' in parsed) return parsed;
      const { document } = parsed;
      const operationName = typeof request.operationName === 'string' ? request.operationName : undefined;
      const operation = getOperationAST(document, operationName);
      if (!operation) return refuse(ErrorCode.BAD_USER_INPUT, 'The operation to run is not named', 'operation_not_found');
      if (operation.operation !== 'subscription') {
        return refuse(
          ErrorCode.BAD_USER_INPUT,
          'Only subscriptions are served here; send queries and mutations to POST /graphql',
          'not_a_subscription',
        );
      }
      const field = operation.selectionSet.selections[0];
      if (field?.kind !== Kind.FIELD)
        return refuse(ErrorCode.BAD_USER_INPUT, 'Select the subscription field directly', 'subscription_field_in_fragment');
      const live = liveFields.get(field.name.value);
      if (!live)
        return refuse(
          ErrorCode.BAD_USER_INPUT,
          `Subscription.${field.name.value} is not served by this gateway`,
          'subscription_not_served',
        );
      const refusal = refusalOf(field.name.value, user);
      if (refusal) return { errors: [refusal] };
      const given = request.variables ?? {};
      if (typeof given !== 'object' || Array.isArray(given))
        return refuse(ErrorCode.BAD_USER_INPUT, '"variables" must be an object', 'invalid_variables');
      if (operation.variableDefinitions?.some((definition) => definition.variable.name.value === EVENT_ID_VARIABLE)) {
        return refuse(ErrorCode.BAD_USER_INPUT, `The variable name $${EVENT_ID_VARIABLE} is reserved`, 'variable_reserved');
      }
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], given as Record<string, unknown>);
      if (coerced.errors)
        return { errors: coerced.errors.map((error) => subscriptionError(ErrorCode.BAD_USER_INPUT, error.message, 'invalid_variables')) };
      const fieldDefinition = schema.getSubscriptionType()!.getFields()[field.name.value];
      const args = getArgumentValues(fieldDefinition, field, coerced.coerced) as { id?: string | null };

      const lookupKey = `${operationName ?? ''}\0${request.query}`;
      let lookup = lookups.get(lookupKey);
      if (!lookup) {
        lookup = {
          id: (nextLookupId += 1),
          query: buildLookupQuery({
            schema,
            document,
            operation: operation as OperationDefinitionNode,
            field: field as FieldNode,
            lookup: live.lookup,
          }),
        };
        if (lookups.size >= 1000) lookups.clear(); // each entry's text is bounded by the message limit
        lookups.set(lookupKey, lookup);
      }
      return {
        document,
        field: field.name.value,
        topic: live.topic,
        responseKey: field.alias?.value ?? field.name.value,
        onlyId: args.id ?? null,
        lookup,
        variables: coerced.coerced,
        variablesKey: JSON.stringify(coerced.coerced),
      };
    },
  };
}
export type SubscriptionPreparer = ReturnType<typeof createSubscriptionPreparer>;
