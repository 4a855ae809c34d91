import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { applyMiddleware } from 'graphql-middleware';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import {
  DEFAULT_STEP_UP_MAX_AGE_SECONDS,
  callerOf,
  createSchemaPermissions,
  decide,
  readTypeRequirements,
  refusalError,
  type ObjectPolicy,
  type RuleContext,
} from '../../auth';

/**
 * graphql-shield does not see `__resolveReference`: an entity type's own requirement (its type-level directives) is
 * checked here before the reference is resolved, so a caller who may read none of the type never reaches its loader.
 */
function guardReferences(typeDefs: DocumentNode, resolvers: GraphQLResolverMap<any>): GraphQLResolverMap<any> {
  const guarded: GraphQLResolverMap<any> = { ...resolvers };
  for (const [type, requirement] of readTypeRequirements(typeDefs)) {
    const typeResolvers = resolvers[type] as Record<string, unknown> | undefined;
    const resolveReference = typeResolvers?.__resolveReference as
      ((reference: unknown, ctx: RuleContext, info: unknown) => unknown) | undefined;
    if (!resolveReference) continue;
    guarded[type] = {
      ...typeResolvers,
      __resolveReference(reference: unknown, ctx: RuleContext, info: unknown) {
        const maxAge = ctx.stepUpMaxAgeSeconds ?? DEFAULT_STEP_UP_MAX_AGE_SECONDS;
        const decision = decide(requirement, callerOf(ctx.viewer, maxAge));
        if (decision.outcome === 'deny') throw refusalError(decision, maxAge);
        return resolveReference(reference, ctx, info);
      },
    } as GraphQLResolverMap<any>[string];
  }
  return guarded;
}

/**
 * The subgraph schema with the permissions its own SDL declares (deny by default): rules generated from the
 * authorization directives at start-up, the object policies it names implemented by `policies`.
 */
export function buildSubgraph(options: {
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<any>;
  policies?: Readonly<Record<string, ObjectPolicy>>;
}): GraphQLSchema {
  const schema = buildSubgraphSchema({ typeDefs: options.typeDefs, resolvers: guardReferences(options.typeDefs, options.resolvers) });
  return applyMiddleware(schema, createSchemaPermissions(options.typeDefs, options.policies));
}
