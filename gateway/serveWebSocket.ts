import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { handleProtocols, type Context } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { ExecutionArgs } from 'graphql';
import { WebSocketServer } from 'ws';
import { ErrorCode } from '../auth';
import type { AuthenticationResult } from './authenticateRequest';
import type { LiveConnection, SubscriptionHub } from './createSubscriptionHub';
import { subscriptionError } from './prepareSubscription';
import { refusalBody } from '../service/httpErrors';

/** Close codes of the gateway's own (graphql-ws uses 44xx for protocol refusals): the reason string says why. */
export const WS_CLOSE = { unauthorized: 4401, forbidden: 4403, serviceRestart: 1012, tryAgainLater: 1013 } as const;

export interface WebSocketOptions {
  server: Server;
  path: string;
  hub: SubscriptionHub;
  /** Checks an Authorization value exactly as the HTTP path checks the header. */
  authenticate(authorization: string): Promise<AuthenticationResult>;
  addressOf(request: IncomingMessage): string;
  maxMessageBytes: number;
  /** Protocol-level pings; a client that does not answer one within the next interval is cut. */
  pingIntervalMs: number;
  connectionInitTimeoutMs: number;
  log: { info(details: object, message: string): void; warn(details: object, message: string): void };
}

function refuseUpgrade(socket: Duplex, status: number, text: string, json: string) {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
  );
}

type Extra = { socket: import('ws').WebSocket; request: IncomingMessage };

/**
 * GraphQL over WebSocket (the graphql-transport-ws protocol of graphql-ws) on the gateway's HTTP server. The access
 * token travels in `connection_init` as `{ "authorization": "Bearer …" }` and is checked like the header; a
 * connection without a valid token is closed (4401, the reason in the close frame) before any subscription starts.
 * A `ping` carrying `{ "authorization": "Bearer …" }` swaps the token without dropping subscriptions.
 */
export function serveWebSocket(options: WebSocketOptions) {
  const { hub, log } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes, handleProtocols });
  const connections = new WeakMap<Context<Record<string, unknown>, Extra>['extra'], LiveConnection>();
  const close = (extra: Extra, code: number, reason: string) => extra.socket.close(code, reason);
  // A failure of the token check itself (not the client's mistake) is logged, and the client told only that much:
  // graphql-ws would put a thrown error's message in the close frame.
  const authenticate = async (authorization: string): Promise<AuthenticationResult> => {
    try {
      return await options.authenticate(authorization);
    } catch (error) {
      log.warn({ err: error }, 'websocket token check failed');
      return { ok: false, status: 503, reason: 'authentication_unavailable' };
    }
  };
  const refusalCode = (result: Extract<AuthenticationResult, { ok: false }>) =>
    result.status === 503 ? WS_CLOSE.tryAgainLater : WS_CLOSE.unauthorized;

  const disposable = useServer<Record<string, unknown>, Extra>(
    {
      connectionInitWaitTimeout: options.connectionInitTimeoutMs,
      async onConnect(ctx) {
        const authorization = ctx.connectionParams?.authorization;
        const address = options.addressOf(ctx.extra.request);
        if (typeof authorization !== 'string') {
          log.info({ reason: 'login_required', clientAddress: address }, 'websocket refused before any subscription');
          close(ctx.extra, WS_CLOSE.unauthorized, 'login_required');
          return false;
        }
        const auth = await authenticate(authorization);
        if (!auth.ok || !auth.user || !auth.principal) {
          const reason = auth.ok ? 'login_required' : auth.reason;
          log.info({ reason, clientAddress: address }, 'websocket refused before any subscription');
          close(ctx.extra, auth.ok ? WS_CLOSE.unauthorized : refusalCode(auth), reason);
          return false;
        }
        // The client may have gone while its token was checked: nothing is registered for a closed socket.
        if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) return false;
        const connection = hub.connect({
          transport: 'ws',
          address,
          user: auth.user,
          principal: auth.principal,
          terminate: (reason) => close(ctx.extra, reason === 'server_draining' ? WS_CLOSE.serviceRestart : WS_CLOSE.unauthorized, reason),
        });
        connections.set(ctx.extra, connection);
        return { expiresAt: auth.principal.expiresAt };
      },
      // Re-authentication: the token is read and taken out; the pong carries the outcome instead.
      async onPing(ctx, payload) {
        if (!payload || typeof payload.authorization !== 'string') return;
        const connection = connections.get(ctx.extra);
        const authorization = payload.authorization;
        delete payload.authorization;
        if (!connection) return;
        const auth = await authenticate(authorization);
        if (!auth.ok || !auth.user || !auth.principal) {
          const reason = auth.ok ? 'login_required' : auth.reason;
          Object.assign(payload, { reauthenticated: false, reason });
          hub.disconnect(connection);
          close(ctx.extra, auth.ok ? WS_CLOSE.unauthorized : refusalCode(auth), reason);
          return;
        }
        if (!hub.reauthenticate(connection, auth.principal, auth.user)) {
          Object.assign(payload, { reauthenticated: false, reason: 'reauthentication_mismatch' });
          hub.disconnect(connection);
          close(ctx.extra, WS_CLOSE.forbidden, 'reauthentication_mismatch');
          return;
        }
        Object.assign(payload, { reauthenticated: true, expiresAt: auth.principal.expiresAt });
      },
      onSubscribe(ctx, _id, payload) {
        const connection = connections.get(ctx.extra);
        if (!connection) return [subscriptionError(ErrorCode.UNAUTHENTICATED, 'Authentication required', 'login_required')];
        let opened: ReturnType<SubscriptionHub['subscribe']>;
        try {
          opened = hub.subscribe(connection, payload);
        } catch (error) {
          log.warn({ err: error }, 'subscription refused: it could not be prepared');
          return [subscriptionError(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error', 'internal_error')];
        }
        if ('errors' in opened) return opened.errors;
        return {
          schema: hub.schema!,
          document: opened.document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: opened.iterator,
        } satisfies ExecutionArgs;
      },
      subscribe: (args) => args.contextValue as AsyncIterableIterator<never>,
      onClose(ctx) {
        const connection = connections.get(ctx.extra);
        if (connection) hub.disconnect(connection);
      },
    },
    wss,
    options.pingIntervalMs,
  );

  // A protocol error (a message over the size limit, invalid UTF-8): ws has closed the socket with its code (1009,
  // 1007…) already; it goes to the log, not to the console as graphql-ws's own listener would put it.
  wss.on('connection', (socket) => {
    socket.removeAllListeners('error');
    socket.on('error', (error) => log.info({ reason: error.message }, 'websocket closed on a protocol error'));
  });

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((request.url ?? '').split('?')[0] !== options.path) {
      refuseUpgrade(socket, 404, 'Not Found', refusalBody(ErrorCode.NOT_FOUND, 'Not found'));
      return;
    }
    const address = options.addressOf(request);
    if (!hub.admit(address)) {
      log.warn({ clientAddress: address }, 'websocket refused: too many connections from this address');
      refuseUpgrade(
        socket,
        429,
        'Too Many Requests',
        refusalBody(ErrorCode.RATE_LIMITED, 'Too many connections', 'connections_per_address'),
      );
      return;
    }
    socket.once('close', () => hub.release(address));
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  options.server.on('upgrade', onUpgrade);

  return {
    /** Stops taking new connections (open ones are closed by the hub's drain). */
    async close() {
      options.server.off('upgrade', onUpgrade);
      await disposable.dispose();
    },
  };
}
