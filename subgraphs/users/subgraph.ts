import { join } from 'node:path';
import { buildSubgraph, loadTypeDefs, type SubgraphService } from '../kit';
import { resolvers } from './resolvers';
import { permissions } from './permissions';

export { seed } from './data/seed';
export const name = 'users';
export const defaultPort = 4002;
export const schemaFile = join(__dirname, 'schema.graphql');
export const migrationsDir = join(__dirname, 'migrations');
export const typeDefs = loadTypeDefs(schemaFile);
export { resolvers, permissions };

/** The users subgraph: tenants and user profiles. */
export function createSubgraph(): SubgraphService {
  return { name, schema: buildSubgraph({ typeDefs, resolvers, permissions }) };
}
