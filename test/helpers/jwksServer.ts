import { createServer, type Server, type ServerResponse } from 'node:http';
import type { JWK } from 'jose';

/**
 * A JWKS endpoint the test controls: the key set, whether it answers, a raw responder for malformed or huge
 * answers, how often it was fetched and whether its last answer was sent whole.
 */
export async function startJwksServer(initialKeys: JWK[]) {
  let keys = initialKeys;
  let up = true;
  let fetches = 0;
  let responder: ((response: ServerResponse) => void | Promise<void>) | undefined;
  let lastAnswerComplete: boolean | undefined;
  const server: Server = createServer((_request, response) => {
    fetches += 1;
    lastAnswerComplete = undefined;
    response.once('close', () => (lastAnswerComplete = response.writableFinished));
    if (!up) {
      response.writeHead(503).end();
      return;
    }
    if (responder) {
      void Promise.resolve(responder(response)).catch(() => response.destroy());
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}/.well-known/jwks.json`,
    get fetches() {
      return fetches;
    },
    /** After a fetch has ended: true when the whole answer was sent, false when the client hung up first. */
    get lastAnswerComplete() {
      return lastAnswerComplete;
    },
    setKeys(next: JWK[]) {
      keys = next;
    },
    setUp(value: boolean) {
      up = value;
    },
    /** Answers every fetch with `write` instead of the key set (undefined: back to the key set). */
    setResponder(write: ((response: ServerResponse) => void | Promise<void>) | undefined) {
      responder = write;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
