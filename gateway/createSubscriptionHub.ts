import {
  GraphQLError,
  type DocumentNode,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { ErrorCode, hasScope, type ContextUser, type Principal, type RevocationEvent } from '../auth';
import type { EventBus, LiveEvent } from '../service/eventBus';
import { createPushIterator, type PushIterator } from './createPushIterator';
import { EVENT_ID_VARIABLE } from './liveFields';
import { createSubscriptionPreparer, subscriptionError, type PreparedSubscription } from './prepareSubscription';
import type { GatewayMetrics } from './metrics';

export type Transport = 'ws' | 'sse';

export interface SubscriptionLimits {
  /** Subscriptions one connection may hold (a WebSocket; an SSE stream holds one). */
  perConnection: number;
  /** Subscriptions one user may hold on this instance, over all their connections. */
  perUser: number;
  /** Open WebSocket and SSE connections from one client address on this instance. */
  connectionsPerAddress: number;
  /** Results queued for a subscriber that does not read them; past this its subscription ends. */
  queuedResults: number;
}

export interface LiveConnection {
  readonly transport: Transport;
  readonly address: string;
  user: ContextUser;
  principal: Principal;
  readonly subscriptions: Set<LiveSubscription>;
  closed: boolean;
  expiry?: NodeJS.Timeout;
  /** Ends the transport, after each subscription was told why (WebSocket: a close code with `reason`). */
  terminate(reason: string): void;
}

interface LiveSubscription extends PreparedSubscription {
  connection: LiveConnection;
  stream: PushIterator<ExecutionResult>;
  /** Deliveries to this subscriber, in event order. */
  tail: Promise<void>;
}

export interface SubscriptionHubOptions {
  events: EventBus;
  limits: SubscriptionLimits;
  /** Runs the lookup query as the subscriber, through the gateway (planner, field rules, signed subgraph calls). */
  execute(request: {
    query: string;
    variables: Record<string, unknown>;
    user: ContextUser;
    address: string;
  }): Promise<FormattedExecutionResult>;
  validationRules: readonly ValidationRule[];
  maxTokens: number;
  stepUpMaxAgeSeconds: number;
  metrics: Pick<GatewayMetrics, 'subscriptionsActive' | 'subscriptionsEnded' | 'subscriptionEvents' | 'subscriptionLatency'>;
  log: { warn(details: object, message: string): void };
  /** Lookups in flight at once over all events; default 64. */
  concurrency?: number;
  now?: () => number;
}

const asGraphQLError = (formatted: GraphQLFormattedError) =>
  Object.assign(new GraphQLError(formatted.message, { path: formatted.path, extensions: formatted.extensions }), {
    locations: formatted.locations,
  });
const coded = subscriptionError;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The gateway's subscriptions, whatever their transport. A subscription to an `@event` field is held here, not in a
 * subgraph: each event on the bus is matched to its subscribers (tenant, audience, arguments), and for each the
 * object is looked up through the gateway as that subscriber, so a field they may not see is null with FORBIDDEN as
 * in a query. Subscribers with the same token, query and variables share one lookup. A connection ends, with a coded
 * error on each subscription, when its token expires or its session, user or tenant is revoked.
 */
export function createSubscriptionHub(options: SubscriptionHubOptions) {
  const { limits, metrics } = options;
  const now = options.now ?? Date.now;
  const preparer = createSubscriptionPreparer(options);

  const connections = new Set<LiveConnection>();
  const bySession = new Map<string, Set<LiveConnection>>();
  const byTenant = new Map<string, Set<LiveConnection>>();
  const byTopic = new Map<string, Set<LiveSubscription>>();
  const perUser = new Map<string, number>();
  const perAddress = new Map<string, number>();
  const userIds = new WeakMap<ContextUser, number>();
  let nextUserId = 0;

  const addTo = <K, V>(map: Map<K, Set<V>>, key: K, value: V) => {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(value);
  };
  const removeFrom = <K, V>(map: Map<K, Set<V>>, key: K, value: V) => {
    const set = map.get(key);
    if (set?.delete(value) && !set.size) map.delete(key);
  };
  const userKey = (user: ContextUser) => `${user.tenantId}:${user.id}`;
  const refusalOf = (field: string, user: ContextUser) => preparer.refusalOf(field, user);

  function scheduleExpiry(connection: LiveConnection) {
    if (connection.expiry) clearTimeout(connection.expiry);
    const inMs = connection.principal.expiresAt * 1000 - now();
    connection.expiry = setTimeout(
      () => endConnection(connection, coded(ErrorCode.UNAUTHENTICATED, 'The access token has expired', 'token_expired')),
      Math.min(Math.max(0, inMs), MAX_TIMER_MS),
    );
    connection.expiry.unref();
  }

  function removeSubscription(subscription: LiveSubscription, reason: string) {
    const { connection } = subscription;
    if (!connection.subscriptions.delete(subscription)) return;
    removeFrom(byTopic, subscription.topic, subscription);
    const key = userKey(connection.user);
    const count = (perUser.get(key) ?? 1) - 1;
    if (count > 0) perUser.set(key, count);
    else perUser.delete(key);
    metrics.subscriptionsActive.dec({ transport: connection.transport });
    metrics.subscriptionsEnded.inc({ reason });
  }

  /** Ends one subscription with `error` as its last payload. */
  function endSubscription(subscription: LiveSubscription, error: GraphQLError) {
    removeSubscription(subscription, String(error.extensions.reason ?? error.extensions.code));
    subscription.stream.end({ errors: [error] });
  }

  /** Access ended: every subscription is told why, then the transport is closed (at most 100 ms later). */
  function endConnection(connection: LiveConnection, error: GraphQLError) {
    if (connection.closed) return;
    const finished = [...connection.subscriptions].map((subscription) => {
      endSubscription(subscription, error);
      return subscription.stream.finished;
    });
    forget(connection);
    const reason = String(error.extensions.reason ?? error.extensions.code);
    const wait = new Promise((resolve) => setTimeout(resolve, 100).unref());
    void Promise.race([Promise.all(finished), wait]).then(() => connection.terminate(reason));
  }

  function forget(connection: LiveConnection) {
    connection.closed = true;
    if (connection.expiry) clearTimeout(connection.expiry);
    connections.delete(connection);
    removeFrom(bySession, connection.principal.sessionId, connection);
    removeFrom(byTenant, connection.principal.tenantId, connection);
  }

  function onRevoked(event: RevocationEvent) {
    const error = coded(ErrorCode.UNAUTHENTICATED, 'The session has been revoked', 'token_revoked');
    if (event.kind === 'sessions') {
      for (const sessionId of event.sessionIds)
        for (const connection of [...(bySession.get(sessionId) ?? [])]) endConnection(connection, error);
    } else {
      for (const connection of [...(byTenant.get(event.tenantId) ?? [])]) {
        if (connection.principal.issuedAt <= event.issuedBefore) endConnection(connection, error);
      }
    }
  }

  // Lookups in flight over all events: a burst of events queues here instead of opening a request per subscriber.
  const concurrency = options.concurrency ?? 64;
  let running = 0;
  const waiting: Array<() => void> = [];
  async function limited<T>(task: () => Promise<T>): Promise<T> {
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await task();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  }

  function deliver(subscription: LiveSubscription, event: LiveEvent, result: FormattedExecutionResult) {
    if (subscription.stream.done) return;
    const root = result.data?.[subscription.responseKey];
    // Nothing this subscriber may see (no longer theirs, another tenant's): nothing is sent.
    if (root == null && (result.errors ?? []).every((error) => error.extensions?.code === ErrorCode.NOT_FOUND)) {
      metrics.subscriptionEvents.inc({ outcome: 'skipped' });
      return;
    }
    if (subscription.stream.queued >= limits.queuedResults) {
      endSubscription(subscription, coded(ErrorCode.SERVICE_UNAVAILABLE, 'The subscriber does not keep up', 'subscriber_too_slow'));
      return;
    }
    subscription.stream.push({
      ...(result as ExecutionResult),
      // The transports serialise errors with toJSON: the lookup's answer is already in its public shape.
      ...(result.errors ? { errors: result.errors.map(asGraphQLError) } : {}),
      extensions: { ...result.extensions, event: { change: event.change, at: new Date(event.at).toISOString() } },
    });
    metrics.subscriptionEvents.inc({ outcome: 'delivered' });
    metrics.subscriptionLatency.observe(Math.max(0, now() - event.at) / 1000);
  }

  function dispatch(event: LiveEvent) {
    const subscriptions = byTopic.get(event.topic);
    if (!subscriptions) return;
    const groups = new Map<string, LiveSubscription[]>();
    for (const subscription of subscriptions) {
      const { user } = subscription.connection;
      // A first filter on what the event says; the lookup, as the subscriber, decides in the end.
      if (user.tenantId !== event.tenantId) continue;
      if (!event.audience.userIds.includes(user.id) && !(event.audience.scope && hasScope(user, event.audience.scope))) continue;
      if (subscription.onlyId !== null && subscription.onlyId !== event.id) continue;
      let userId = userIds.get(user);
      if (userId === undefined) userIds.set(user, (userId = nextUserId += 1));
      const key = `${subscription.lookup.id}\0${subscription.variablesKey}\0${userId}`;
      const group = groups.get(key);
      if (group) group.push(subscription);
      else groups.set(key, [subscription]);
    }
    for (const group of groups.values()) {
      const [first] = group;
      const result = limited(() =>
        options.execute({
          query: first.lookup.query,
          variables: { ...first.variables, [EVENT_ID_VARIABLE]: event.id },
          user: first.connection.user,
          address: first.connection.address,
        }),
      ).catch((error: Error) => {
        options.log.warn({ topic: event.topic, error: error.message }, 'subscription lookup failed');
        return { errors: [internalServerError()] } as FormattedExecutionResult;
      });
      for (const subscription of group) {
        subscription.tail = subscription.tail.then(async () => deliver(subscription, event, await result)).catch(() => undefined);
      }
    }
  }
  const internalServerError = () => ({ message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } });

  const bus = options.events.subscribe(dispatch, (state) => {
    if (state === 'down') options.log.warn({}, 'event bus unreachable; subscriptions get no events until it is back');
  });

  return {
    /** The supergraph's API schema and SDL, as the gateway loads or updates them. */
    setSchema: (apiSchema: GraphQLSchema, supergraphSdl: string) => preparer.setSchema(apiSchema, supergraphSdl),
    get schema() {
      return preparer.schema;
    },

    /** Counts a new transport connection from `address`; false when the address is at its limit. */
    admit(address: string): boolean {
      const count = perAddress.get(address) ?? 0;
      if (count >= limits.connectionsPerAddress) return false;
      perAddress.set(address, count + 1);
      return true;
    },
    release(address: string) {
      const count = (perAddress.get(address) ?? 1) - 1;
      if (count > 0) perAddress.set(address, count);
      else perAddress.delete(address);
    },

    /** An authenticated connection: it ends when the token expires or is revoked. */
    connect(init: { transport: Transport; address: string; user: ContextUser; principal: Principal; terminate(reason: string): void }) {
      const connection: LiveConnection = { ...init, subscriptions: new Set(), closed: false };
      connections.add(connection);
      addTo(bySession, init.principal.sessionId, connection);
      addTo(byTenant, init.principal.tenantId, connection);
      scheduleExpiry(connection);
      return connection;
    },

    /**
     * Swaps the connection's token for a newer one of the same user and tenant; its subscriptions go on (those the new
     * token may no longer have end with its refusal). False when the token names someone else.
     */
    reauthenticate(connection: LiveConnection, principal: Principal, user: ContextUser): boolean {
      if (connection.closed) return false;
      if (principal.userId !== connection.principal.userId || principal.tenantId !== connection.principal.tenantId) return false;
      removeFrom(bySession, connection.principal.sessionId, connection);
      connection.principal = principal;
      connection.user = user;
      addTo(bySession, principal.sessionId, connection);
      scheduleExpiry(connection);
      for (const subscription of [...connection.subscriptions]) {
        const refusal = refusalOf(subscription.field, user);
        if (refusal) endSubscription(subscription, refusal);
      }
      return true;
    },

    /** The transport went away: its subscriptions end without a word. */
    disconnect(connection: LiveConnection) {
      for (const subscription of [...connection.subscriptions]) {
        removeSubscription(subscription, 'disconnected');
        subscription.stream.end();
      }
      if (!connection.closed) forget(connection);
    },

    /** Ends a connection with a coded error on each subscription, then closes its transport. */
    end: endConnection,

    /**
     * Checks a subscribe request (parse, validation, the field's rule, variables, limits) and, when it passes, opens
     * the subscription; the iterator yields one result per event until access ends or the client completes it.
     */
    subscribe(
      connection: LiveConnection,
      request: { query?: unknown; variables?: unknown; operationName?: unknown },
    ): { errors: readonly GraphQLError[] } | { document: DocumentNode; iterator: AsyncIterableIterator<ExecutionResult> } {
      const refuse = (code: ErrorCode, message: string, reason: string) => ({ errors: [coded(code, message, reason)] });
      if (connection.closed) return refuse(ErrorCode.UNAUTHENTICATED, 'The connection has ended', 'connection_ended');
      const prepared = preparer.prepare(request, connection.user);
      if ('errors' in prepared) return prepared;
      if (connection.subscriptions.size >= limits.perConnection) {
        return refuse(ErrorCode.RATE_LIMITED, 'Too many subscriptions on this connection', 'subscriptions_per_connection');
      }
      const key = userKey(connection.user);
      if ((perUser.get(key) ?? 0) >= limits.perUser)
        return refuse(ErrorCode.RATE_LIMITED, 'Too many subscriptions for this user', 'subscriptions_per_user');

      const subscription: LiveSubscription = {
        ...prepared,
        connection,
        stream: createPushIterator<ExecutionResult>(() => removeSubscription(subscription, 'complete')),
        tail: Promise.resolve(),
      };
      connection.subscriptions.add(subscription);
      addTo(byTopic, prepared.topic, subscription);
      perUser.set(key, (perUser.get(key) ?? 0) + 1);
      metrics.subscriptionsActive.inc({ transport: connection.transport });
      return { document: prepared.document, iterator: subscription.stream.iterator };
    },

    onRevoked,
    /** Open connections and subscriptions (for tests and the benchmark). */
    get size() {
      let subscriptions = 0;
      for (const connection of connections) subscriptions += connection.subscriptions.size;
      return { connections: connections.size, subscriptions };
    },

    /**
     * Shutdown: every client is told to reconnect. A WebSocket closes with 1012 (Service Restart) and its subscriptions
     * open: graphql-ws clients reconnect, to another replica, and subscribe again by themselves. An SSE stream ends
     * with SERVICE_UNAVAILABLE (reason server_draining).
     */
    drain() {
      const error = coded(ErrorCode.SERVICE_UNAVAILABLE, 'The server is restarting; subscribe again', 'server_draining');
      for (const connection of [...connections]) {
        if (connection.transport === 'sse') endConnection(connection, error);
        else {
          for (const subscription of [...connection.subscriptions]) removeSubscription(subscription, 'server_draining');
          forget(connection);
          connection.terminate('server_draining');
        }
      }
    },
    async close() {
      await bus.close();
    },
  };
}
export type SubscriptionHub = ReturnType<typeof createSubscriptionHub>;
