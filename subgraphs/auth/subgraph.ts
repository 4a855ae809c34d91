import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createAccessTokenIssuer } from '../../auth';
import { buildSubgraph, loadTypeDefs, type Database, type SubgraphService } from '../kit';
import type { AuthConfig } from './config';
import { createPasswordChecker } from './passwords';
import { permissions } from './permissions';
import { createResolvers } from './resolvers';
import { loadSigningKey } from './signingKeys';

export { seed } from './data/seed';
export const name = 'auth';
export const defaultPort = 4001;
export const schemaFile = join(__dirname, 'schema.graphql');
export const migrationsDir = join(__dirname, 'migrations');
export const typeDefs = loadTypeDefs(schemaFile);
export { permissions };

export const JWKS_PATH = '/.well-known/jwks.json';

/** The auth subgraph: login, tokens, the published key set. */
export async function createSubgraph(config: AuthConfig, db: Database): Promise<SubgraphService> {
  const signingKey = await loadSigningKey(config);
  const issuer = createAccessTokenIssuer({
    issuer: config.TOKEN_ISSUER,
    audience: config.TOKEN_AUDIENCE,
    ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    signingKey,
  });
  const resolvers = createResolvers({
    db,
    issuer,
    passwords: await createPasswordChecker(),
    sessionTtlSeconds: config.SESSION_TTL_SECONDS,
  });
  const jwks = JSON.stringify({ keys: [signingKey.publicJwk] });
  const discovery = JSON.stringify({ issuer: config.TOKEN_ISSUER, jwks_uri: new URL(JWKS_PATH, config.TOKEN_ISSUER).href });
  return {
    name,
    schema: buildSubgraph({ typeDefs, resolvers, permissions }),
    registerRoutes(app: FastifyInstance) {
      app.get(JWKS_PATH, (_request, reply) => {
        reply.header('content-type', 'application/jwk-set+json').header('cache-control', 'public, max-age=300').send(jwks);
      });
      app.get('/.well-known/openid-configuration', (_request, reply) => {
        reply.header('content-type', 'application/json').header('cache-control', 'public, max-age=300').send(discovery);
      });
    },
  };
}
