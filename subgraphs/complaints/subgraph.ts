import { join } from 'node:path';
import {
  buildSubgraph,
  createEventOutbox,
  loadTypeDefs,
  type Database,
  type SharedServices,
  type SubgraphConfig,
  type SubgraphService,
} from '../kit';
import { createRedisHealth } from '../../service/redisHealth';
import type { ComplaintsConfig } from './config';
import { createResolvers } from './resolvers';
import { policies } from './policies';

export { seed } from './data/seed';
export const name = 'complaints';
export const defaultPort = 4004;
export const schemaFile = join(__dirname, 'schema.graphql');
export const migrationsDir = join(__dirname, 'migrations');
export const typeDefs = loadTypeDefs(schemaFile);
export { policies };

/** The complaints subgraph: complaints and their comments, and the events of `Subscription.complaintUpdated`. */
export function createSubgraph(
  config: SubgraphConfig & Partial<Pick<ComplaintsConfig, 'REDIS_URL' | 'REDIS_KEY_PREFIX' | 'REDIS_TIMEOUT_MS'>>,
  db: Database,
  shared: SharedServices = {},
): SubgraphService {
  const redisHealth = createRedisHealth();
  const events = createEventOutbox({
    redisHealth,
    pool: db.pool,
    schema: name,
    bus: shared.eventBus,
    redisUrl: config.REDIS_URL,
    keyPrefix: config.REDIS_KEY_PREFIX,
    redisTimeoutMs: config.REDIS_TIMEOUT_MS,
  });
  return {
    name,
    redisHealth,
    schema: buildSubgraph({ typeDefs, resolvers: createResolvers(events), policies }),
    registerRoutes(app) {
      events.start(app.log);
      app.addHook('onClose', () => events.close());
    },
  };
}
