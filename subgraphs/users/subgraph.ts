import { join } from 'node:path';
import { buildSubgraph, loadTypeDefs, type SubgraphService } from '../kit';
import { resolvers } from './resolvers';
import { policies } from './policies';

export { seed } from './data/seed';
export const name = 'users';
export const defaultPort = 4002;
export const schemaFile = join(__dirname, 'schema.graphql');
export const migrationsDir = join(__dirname, 'migrations');
export const typeDefs = loadTypeDefs(schemaFile);
export { resolvers, policies };

/** The users subgraph: tenants and user profiles. */
export function createSubgraph(): SubgraphService {
  return { name, schema: buildSubgraph({ typeDefs, resolvers, policies }) };
}
