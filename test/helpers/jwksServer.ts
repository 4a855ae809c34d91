import { createServer, type Server } from 'node:http';
import type { JWK } from 'jose';

/** A JWKS endpoint the test controls: the key set, whether it answers, and how often it was fetched. */
export async function startJwksServer(initialKeys: JWK[]) {
  let keys = initialKeys;
  let up = true;
  let fetches = 0;
  const server: Server = createServer((_request, response) => {
    fetches += 1;
    if (!up) {
      response.writeHead(503).end();
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
    setKeys(next: JWK[]) {
      keys = next;
    },
    setUp(value: boolean) {
      up = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
