import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import WebSocket from 'ws';

/** What one subscription received, as a frontend would see it. */
export interface LiveResults {
  results: any[];
  /** Set once the server completed the subscription (or the client saw it end with an error). */
  completed: boolean;
  /** When it ended (performance.now()). */
  endedAt?: number;
  error?: unknown;
  /** Resolves with the next result not read yet (undefined once the subscription ended without one). */
  next(timeoutMs?: number): Promise<any>;
  /** Resolves when the subscription ends. */
  ended: Promise<void>;
  stop(): void;
}

function collector(): { sink: { next(value: any): void; error(error: unknown): void; complete(): void }; live: LiveResults } {
  const waiters = new Set<() => boolean>();
  const wake = () => {
    for (const waiter of [...waiters]) if (waiter()) waiters.delete(waiter);
  };
  let endedResolve!: () => void;
  let read = 0;
  const live: LiveResults = {
    results: [],
    completed: false,
    ended: new Promise<void>((resolve) => (endedResolve = resolve)),
    next(timeoutMs = 5000) {
      // Results are read in order, each once: the one after the last read, whenever it arrived.
      const index = (read += 1) - 1;
      return new Promise((resolve, reject) => {
        const check = () => {
          if (live.results.length <= index && !live.completed) return false;
          clearTimeout(timer);
          resolve(live.results[index]);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no result within ${timeoutMs} ms`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    stop: () => undefined,
  };
  const end = () => {
    live.endedAt ??= performance.now();
    live.completed = true;
    endedResolve();
    wake();
  };
  return {
    live,
    sink: {
      next(value) {
        live.results.push(value);
        wake();
      },
      error(error) {
        live.error = error;
        end();
      },
      complete: end,
    },
  };
}

export interface WsConnection {
  client: WsClient;
  /** The close event of the socket, once it closed. */
  closed: Promise<{ code: number; reason: string; at: number }>;
  acked: Promise<Record<string, unknown> | undefined>;
  subscribe(query: string, variables?: Record<string, unknown>): LiveResults;
  /** Sends a ping with this payload and resolves with the pong's payload. */
  ping(payload: Record<string, unknown>): Promise<any>;
  dispose(): Promise<void>;
}

/** A graphql-ws client (the library frontends use) on the gateway's WebSocket, without retries. */
export function connectWs(httpUrl: string, connectionParams: Record<string, unknown> | undefined): WsConnection {
  let socket: WebSocket | undefined;
  let closedResolve!: (value: { code: number; reason: string; at: number }) => void;
  let ackedResolve!: (value: Record<string, unknown> | undefined) => void;
  const pongs: Array<(payload: unknown) => void> = [];
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) => (closedResolve = resolve));
  const acked = new Promise<Record<string, unknown> | undefined>((resolve) => (ackedResolve = resolve));
  const client = createWsClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => undefined,
    on: {
      connected: (opened, payload) => {
        socket = opened as WebSocket;
        ackedResolve(payload as Record<string, unknown> | undefined);
      },
      pong: (_received, payload) => pongs.shift()?.(payload),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        closedResolve({ code, reason: String(reason), at: performance.now() });
      },
    },
  });
  return {
    client,
    closed,
    acked,
    subscribe(query, variables) {
      const { sink, live } = collector();
      live.stop = client.subscribe({ query, variables }, sink);
      return live;
    },
    async ping(payload) {
      await acked;
      const pong = new Promise((resolve) => pongs.push(resolve));
      socket!.send(JSON.stringify({ type: 'ping', payload }));
      return pong;
    },
    dispose: () => client.dispose() as Promise<void>,
  };
}

/** A graphql-sse client (distinct connections) on the gateway's event stream, without retries. */
export function subscribeSse(httpUrl: string, token: string | undefined, query: string, variables?: Record<string, unknown>): LiveResults {
  const client = createSseClient({
    url: httpUrl.replace(/\/graphql$/, '/graphql/stream'),
    headers: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
  });
  const { sink, live } = collector();
  const stop = client.subscribe({ query, variables }, sink);
  live.stop = () => {
    stop();
    client.dispose();
  };
  return live;
}
