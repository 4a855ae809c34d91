import { join } from 'node:path';
import { buildSubgraph, loadTypeDefs, type SubgraphService } from '../kit';
import { resolvers } from './resolvers';
import { policies } from './policies';

export { seed } from './data/seed';
export const name = 'complaints';
export const defaultPort = 4004;
export const schemaFile = join(__dirname, 'schema.graphql');
export const migrationsDir = join(__dirname, 'migrations');
export const typeDefs = loadTypeDefs(schemaFile);
export { resolvers, policies };

/** The complaints subgraph: complaints and their comments. */
export function createSubgraph(): SubgraphService {
  return { name, schema: buildSubgraph({ typeDefs, resolvers, policies }) };
}
