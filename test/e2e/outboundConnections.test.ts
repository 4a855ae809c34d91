import net from 'node:net';
import { startStack, type Stack } from '../helpers/stack';

/**
 * A gateway reaches its subgraphs, its key sets and its stores, and nothing else: no vendor telemetry, no cloud
 * metadata service. Every TCP connection this process opens is recorded, by where it goes.
 */
const destinations: string[] = [];
const connect = net.Socket.prototype.connect;
beforeAll(() => {
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    // net.connect and http's agents pass their normalised arguments as one array.
    const normalised = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
    const first = normalised[0] as { host?: string; port?: number; path?: string } | number | string;
    const [host, port] =
      typeof first === 'object' && first !== null
        ? [first.host ?? (first.path ? 'unix' : 'localhost'), first.port]
        : typeof first === 'number'
          ? [typeof normalised[1] === 'string' ? normalised[1] : 'localhost', first]
          : ['unix', undefined];
    destinations.push(`${host}:${port ?? ''}`);
    return (connect as (...inner: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;
});
afterAll(() => {
  net.Socket.prototype.connect = connect;
});

let stack: Stack;
afterAll(async () => {
  await stack?.close();
});

it('opens no connection beyond this host: no telemetry to Apollo, no cloud metadata probes', async () => {
  stack = await startStack();
  const extra = await stack.addGateway();
  const token = await stack.login('member@acme.example', 'acme');
  const answer = await stack.gql('{ me { displayName } }', { token, url: extra.url });
  expect(answer.body.data.me.displayName).toEqual(expect.any(String));
  // Detection and export would start at once; give them time to show.
  await new Promise((resolve) => setTimeout(resolve, 1000));

  expect(destinations.length).toBeGreaterThan(0); // the recorder saw the stack's own connections
  const local = /^(127\.0\.0\.1|localhost|::1|unix):/;
  expect(destinations.filter((destination) => !local.test(destination))).toEqual([]);
});
