import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { parse, type OperationDefinitionNode } from 'graphql';
import { hasRecentSecondFactor, hasScope, readRequirements, type ContextUser, type Requirement } from '../auth';
import { applyRemovals, authorizeDocument, createAuthorizationCache, stripHiddenTypename } from './authorizeOperation';
import type { GatewayContext } from './SignedContextDataSource';

export interface EnforceAuthorizationOptions {
  /** STEP_UP_MAX_AGE_SECONDS: how recent a second factor `@policy(policies: [["step_up"]])` wants. */
  stepUpMaxAgeSeconds: number;
  /** Told of each field refused here, by code (metrics). */
  onRefusal?: (code: string) => void;
  now?: () => number;
}

// The caller's part of the cache key: a short id per distinct scope set, found once per caller object (the same object
// on every hit of a cached token), so that a request builds no long key. Ids are never reused: when the table is
// emptied (external providers may grant many scope sets), a set gets a new id and its operations are filtered anew.
const scopeSetIds = new Map<string, string>();
let nextScopeSetId = 0;
const callerIds = new WeakMap<ContextUser, string>();
const scopeSetIdOf = (user: ContextUser) => {
  let id = callerIds.get(user);
  if (id === undefined) {
    const scopes = user.scopes.join(' ');
    id = scopeSetIds.get(scopes);
    if (id === undefined) {
      if (scopeSetIds.size >= 10_000) scopeSetIds.clear();
      scopeSetIds.set(scopes, (id = `s${(nextScopeSetId += 1)}`));
    }
    callerIds.set(user, id);
  }
  return id;
};

/**
 * Wraps Apollo Gateway so that every operation is checked against the caller's scopes with the supergraph's
 * authorization directives before it is planned: fields the caller may not see are removed (no subgraph is called for
 * them) and answered null with a coded error at their paths, siblings intact; an operation with nothing left calls no
 * subgraph. The filtered document is cached per (operation, caller's scopes and step-up state) and planned under its
 * own hash. Object policies (those that need the object) pass to the subgraph, which checks everything again.
 */
export function enforceAuthorization(gateway: GatewayInterface, options: EnforceAuthorizationOptions): GatewayInterface {
  let requirements: ReadonlyMap<string, Requirement> = new Map();
  const cache = createAuthorizationCache();
  const now = options.now ?? Date.now;
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    requirements = readRequirements(parse(coreSupergraphSdl));
    cache.clear();
  });

  const wrap =
    (execute: GatewayExecutor): GatewayExecutor =>
    async (requestContext) => {
      // No operation resolved: Apollo Gateway's executor answers the resolution error itself.
      if (!requestContext.operation) return execute(requestContext);
      const user = (requestContext.context as GatewayContext).user;
      const steppedUp = user ? hasRecentSecondFactor(user, options.stepUpMaxAgeSeconds, now()) : false;
      const callerKey = user ? `${scopeSetIdOf(user)}${steppedUp ? '+otp' : ''}` : '-';
      const cacheKey = `${requestContext.queryHash}\0${requestContext.request.operationName ?? ''}\0${callerKey}`;
      let authorized = cache.get(cacheKey);
      if (!authorized) {
        authorized = authorizeDocument({
          document: requestContext.document,
          operation: requestContext.operation as OperationDefinitionNode,
          queryHash: requestContext.queryHash,
          callerKey,
          schema: requestContext.schema,
          requirements,
          caller: { authenticated: user !== null, hasScope: (scope) => hasScope(user, scope), steppedUp },
          stepUpMaxAgeSeconds: options.stepUpMaxAgeSeconds,
        });
        cache.set(cacheKey, authorized);
      }
      if (!authorized.removals.length) return execute(requestContext);
      const result = authorized.empty
        ? { data: {} }
        : await execute({
            ...requestContext,
            document: authorized.document,
            operation: authorized.operation,
            queryHash: authorized.queryHash,
          });
      const refusals = applyRemovals(result, authorized.removals);
      if (authorized.removals.some((removal) => removal.onTypes)) stripHiddenTypename(result.data);
      for (const refusal of refusals) options.onRefusal?.(String(refusal.extensions.code));
      return { ...result, errors: [...(result.errors ?? []), ...refusals] };
    };

  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    async load(loadOptions) {
      const loaded = await gateway.load(loadOptions);
      return { ...loaded, executor: loaded.executor && wrap(loaded.executor) };
    },
    stop: () => gateway.stop(),
  };
}
