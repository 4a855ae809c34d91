import { join } from 'node:path';
import { buildSubgraph, loadTypeDefs, type SubgraphService } from '../kit';
import { resolvers } from './resolvers';
import { policies } from './policies';

export { seed } from './data/seed';
export const name = 'records';
export const defaultPort = 4003;
export const schemaFile = join(__dirname, 'schema.graphql');
export const migrationsDir = join(__dirname, 'migrations');
export const typeDefs = loadTypeDefs(schemaFile);
export { resolvers, policies };

/** The records subgraph: records, the record management app. */
export function createSubgraph(): SubgraphService {
  return { name, schema: buildSubgraph({ typeDefs, resolvers, policies }) };
}
