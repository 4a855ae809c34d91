import proxyAddr from '@fastify/proxy-addr';
import type { FastifyInstance } from 'fastify';
import type { GraphQLSchema, ValidationRule } from 'graphql';
import type { RevocationEvent } from '../auth';
import { openEventBus, type EventBus } from '../service/eventBus';
import type { RedisHealth } from '../service/redisHealth';
import type { AuthenticationResult } from './authenticateRequest';
import type { GatewayConfig } from './config';
import { createSubscriptionHub, type SubscriptionHubOptions } from './createSubscriptionHub';
import type { GatewayMetrics } from './metrics';
import { serveEventStream } from './serveEventStream';
import { serveWebSocket } from './serveWebSocket';

export interface ServeSubscriptionsOptions {
  app: FastifyInstance;
  config: GatewayConfig;
  /** The launcher's in-process bus; otherwise Redis (REDIS_URL), or one of this process only. */
  eventBus?: EventBus;
  /** Where the event bus's Redis connection problems are counted and logged. */
  redisHealth?: RedisHealth;
  /** Checks raw request headers as the HTTP path does (token, revocation, roles). */
  authenticate(rawHeaders: readonly string[]): Promise<AuthenticationResult>;
  /** Runs a lookup query as `user`, through the gateway. */
  execute: SubscriptionHubOptions['execute'];
  validationRules: readonly ValidationRule[];
  onSchema(listener: (schema: { apiSchema: GraphQLSchema; coreSupergraphSdl: string }) => void): unknown;
  onRevoked(listener: (event: RevocationEvent) => void): unknown;
  metrics: GatewayMetrics;
  log: FastifyInstance['log'];
  now?: () => number;
}

/**
 * Subscriptions on the gateway: WebSocket (graphql-ws) on /graphql, SSE (graphql-sse) on /graphql/stream, one hub
 * fed by the event bus and told of every revocation. `close` tells every client to reconnect, then stops.
 */
export function serveSubscriptions(options: ServeSubscriptionsOptions) {
  const { config, log } = options;
  const events = openEventBus({
    shared: options.eventBus,
    redisHealth: options.redisHealth,
    redisUrl: config.REDIS_URL,
    keyPrefix: config.REDIS_KEY_PREFIX,
    commandTimeoutMs: config.REDIS_TIMEOUT_MS,
  });
  if (!options.eventBus && !config.REDIS_URL) {
    log.warn('no REDIS_URL: subscriptions on this gateway only hear the events of subgraphs in its own process');
  }
  const hub = createSubscriptionHub({
    events: events.bus,
    limits: {
      perConnection: config.SUBSCRIPTIONS_PER_CONNECTION,
      perUser: config.SUBSCRIPTIONS_PER_USER,
      connectionsPerAddress: config.SUBSCRIPTION_CONNECTIONS_PER_ADDRESS,
      queuedResults: config.SUBSCRIPTION_QUEUE_LIMIT,
    },
    validationRules: options.validationRules,
    maxTokens: config.MAX_TOKENS,
    stepUpMaxAgeSeconds: config.STEP_UP_MAX_AGE_SECONDS,
    metrics: options.metrics,
    log,
    now: options.now,
    execute: options.execute,
  });
  options.onSchema(({ apiSchema, coreSupergraphSdl }) => hub.setSchema(apiSchema, coreSupergraphSdl));
  options.onRevoked((event) => hub.onRevoked(event));

  const webSocket = serveWebSocket({
    server: options.app.server,
    path: '/graphql',
    hub,
    authenticate: (authorization) => options.authenticate(['authorization', authorization]),
    // The client's address as Fastify reads it for HTTP requests, for the upgrade requests it never sees.
    addressOf: (request) => proxyAddr(request, config.trustsProxy),
    maxMessageBytes: config.SUBSCRIPTION_MAX_MESSAGE_BYTES,
    pingIntervalMs: config.SUBSCRIPTION_PING_INTERVAL_MS,
    connectionInitTimeoutMs: config.SUBSCRIPTION_INIT_TIMEOUT_MS,
    log,
  });
  serveEventStream({ app: options.app, path: '/graphql/stream', hub, authenticate: options.authenticate, log });

  return {
    hub,
    /** Clients are told to reconnect (to another replica); new WebSockets are no longer taken. */
    async drain() {
      hub.drain();
      await webSocket.close();
    },
    /** After the server has stopped: the bus. */
    async close() {
      await hub.close();
      await events.close();
    },
  };
}
