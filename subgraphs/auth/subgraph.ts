import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  createAccessTokenIssuer,
  createMemoryRevocationBus,
  createRedisRevocationBus,
  loadRoleTable,
  type RevocationBus,
  type RevocationEvent,
} from '../../auth';
import { buildSubgraph, createOutboxRelay, loadTypeDefs, type Database, type SharedServices, type SubgraphService } from '../kit';
import type { AuthConfig } from './config';
import { createCredentialService } from './credentials';
import { createFactorService } from './factors';
import { createInvitationService } from './invitations';
import { createKeyStore } from './keyStore';
import { createLoginService } from './login';
import { createPasswordChecker } from './passwords';
import { policies } from './policies';
import { createResolvers } from './resolvers';
import { loadSecretBox } from './secretBox';
import { createSessionService } from './sessions';
import { createRedisHealth, type RedisHealth } from '../../service/redisHealth';
import { createThrottle } from './throttle';

export { seed, DEMO_TOTP_SECRET } from './data/seed';
export const name = 'auth';
export const defaultPort = 4001;
export const schemaFile = join(__dirname, 'schema.graphql');
export const migrationsDir = join(__dirname, 'migrations');
export const typeDefs = loadTypeDefs(schemaFile);
export { policies };

export const JWKS_PATH = '/.well-known/jwks.json';

/** The revocation bus from config: Redis when REDIS_URL is set, else one in memory (this process only). */
export function createRevocationBus(config: AuthConfig, redisHealth?: RedisHealth): RevocationBus {
  const retentionMs = config.REVOCATION_RETENTION_SECONDS * 1000;
  return config.REDIS_URL
    ? createRedisRevocationBus({
        url: config.REDIS_URL,
        key: `${config.REDIS_KEY_PREFIX}revocations`,
        retentionMs,
        commandTimeoutMs: config.REDIS_TIMEOUT_MS,
        redisHealth,
      })
    : createMemoryRevocationBus({ retentionMs });
}

/** The auth subgraph: login with a second step, sessions and refresh tokens, revocation, keys, audit. */
export async function createSubgraph(config: AuthConfig, db: Database, shared: SharedServices = {}): Promise<SubgraphService> {
  const secretBox = await loadSecretBox(config);
  const keys = createKeyStore({
    pool: db.pool,
    secretBox,
    activationDelaySeconds: config.KEY_ACTIVATION_DELAY_SECONDS,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    algorithm: config.ACCESS_TOKEN_ALG,
    reloadMs: config.KEY_RELOAD_MS,
  });
  await keys.init();
  const issuer = createAccessTokenIssuer({
    issuer: config.TOKEN_ISSUER,
    audience: config.TOKEN_AUDIENCE,
    ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    signingKey: () => keys.current(),
  });
  const redisHealth = createRedisHealth();
  const ownBus = shared.revocationBus ? undefined : createRevocationBus(config, redisHealth);
  const bus = shared.revocationBus ?? ownBus!;
  const throttle = createThrottle({
    redisUrl: config.REDIS_URL,
    keyPrefix: `${config.REDIS_KEY_PREFIX}throttle:`,
    perAccount: config.LOGIN_MAX_ATTEMPTS_PER_ACCOUNT,
    perAddress: config.LOGIN_MAX_ATTEMPTS_PER_ADDRESS,
    windowSeconds: config.LOGIN_THROTTLE_WINDOW_SECONDS,
    redisTimeoutMs: config.REDIS_TIMEOUT_MS,
    redisHealth,
  });
  // Revocations are written to auth.revocation_outbox in the revoking transaction, then relayed to the bus.
  const relay = createOutboxRelay<RevocationEvent>({
    pool: db.pool,
    table: 'auth.revocation_outbox',
    publish: (event) => bus.publish(event),
    keepPublished: true,
    what: 'revocation',
  });
  const sessions = createSessionService({
    db,
    issuer,
    relay,
    sessionTtlSeconds: config.SESSION_TTL_SECONDS,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshReuseGraceSeconds: config.REFRESH_REUSE_GRACE_SECONDS,
  });
  const passwords = await createPasswordChecker();
  const login = createLoginService({
    db,
    sessions,
    passwords,
    throttle,
    secretBox,
    challengeTtlSeconds: config.CHALLENGE_TTL_SECONDS,
  });
  const factors = createFactorService({ db, secretBox, throttle });
  // Which roles a caller may grant: none holding a scope the caller lacks (read at start-up; restart to apply a change).
  const roles = loadRoleTable(config.ROLES_PATH);
  const invitations = createInvitationService({ db, sessions, throttle, roles });
  const credentials = createCredentialService({ db, sessions, throttle, passwords, stepUpMaxAgeSeconds: config.STEP_UP_MAX_AGE_SECONDS });
  const resolvers = createResolvers({
    db,
    login,
    sessions,
    factors,
    invitations,
    credentials,
    roles,
    refreshCookie: { path: config.REFRESH_COOKIE_PATH },
  });
  const discovery = JSON.stringify({ issuer: config.TOKEN_ISSUER, jwks_uri: new URL(JWKS_PATH, config.TOKEN_ISSUER).href });

  return {
    name,
    redisHealth,
    schema: buildSubgraph({ typeDefs, resolvers, policies }),
    // Its services keep transactions of their own, and each mutation is safe to repeat: a change sets a value, a
    // credential or token is single-use, a session or challenge is refused once spent.
    idempotentMutations: false,
    registerRoutes(app: FastifyInstance) {
      relay.start(app.log);
      app.get(JWKS_PATH, (_request, reply) => {
        // Short max-age: a rotated key is published well before it signs (KEY_ACTIVATION_DELAY_SECONDS).
        reply
          .header('content-type', 'application/jwk-set+json')
          .header('cache-control', 'public, max-age=60')
          .send(JSON.stringify({ keys: keys.published() }));
      });
      app.get('/.well-known/openid-configuration', (_request, reply) => {
        reply.header('content-type', 'application/json').header('cache-control', 'public, max-age=300').send(discovery);
      });
      app.addHook('onClose', async () => {
        await relay.stop();
        await throttle.close();
        await ownBus?.close();
      });
    },
  };
}
