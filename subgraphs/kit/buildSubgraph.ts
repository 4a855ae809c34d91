import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { applyMiddleware } from 'graphql-middleware';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { createPermissions } from '../../auth';

export type RuleTree = Parameters<typeof createPermissions>[0];

/** The subgraph schema with its graphql-shield permissions applied (deny by default). */
export function buildSubgraph(options: {
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<any>;
  permissions: RuleTree;
}): GraphQLSchema {
  const schema = buildSubgraphSchema({ typeDefs: options.typeDefs, resolvers: options.resolvers });
  return applyMiddleware(schema, createPermissions(options.permissions));
}
