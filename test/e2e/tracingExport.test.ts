import { createServer, type Server } from 'node:http';
import { trace } from '@opentelemetry/api';
import { startStack, type Stack } from '../helpers/stack';

/** An OTLP/HTTP collector the test runs itself: it keeps every export it receives. */
let collector: Server;
const exports: string[] = [];
let stack: Stack;

beforeAll(async () => {
  collector = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      if (request.url === '/v1/traces') exports.push(body);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(collector.address() as { port: number }).port}/v1/traces`;
  stack = await startStack({
    subgraphEnv: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint },
    gatewayEnv: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint },
  });
});
afterAll(async () => {
  await stack?.close();
  await new Promise((resolve) => collector.close(resolve));
});

it('exports the spans of a request over OTLP when an endpoint is configured', async () => {
  const token = await stack.login('member@acme.example', 'acme');
  await stack.gql('{ me { displayName records(first: 1) { nodes { title } } } }', {
    token,
    headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && !exports.join('').includes('subgraph records')) await new Promise((resolve) => setTimeout(resolve, 200));
  const exported = exports.join('\n');
  // Apollo Gateway's own spans (planning, fetches) are recorded and exported with Gatehouse's.
  for (const span of [
    'graphql',
    'subgraph users',
    'subgraph records',
    'users operation',
    'records operation',
    'gateway.plan',
    'gateway.fetch',
  ]) {
    expect({ span, exported: exported.includes(`"${span}"`) }).toEqual({ span, exported: true });
  }
  expect(exported).toContain('0af7651916cd43dd8448eb211c80319c');
}, 30_000);

it('with an endpoint, also records and exports a trace the gateway starts itself', async () => {
  const token = await stack.login('member@acme.example', 'acme');
  stack.resetCalls();
  await stack.gql('{ me { displayName } }', { token });
  const traceparent = String(stack.subgraphs.users.calls.at(-1)?.headers.traceparent);
  const [, traceId, , flags] = traceparent.split('-');
  expect(flags).toBe('01');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && !exports.join('').includes(traceId)) await new Promise((resolve) => setTimeout(resolve, 200));
  expect(exports.join('\n')).toContain(traceId);
}, 30_000);

it('sends the spans still batched when a gateway closes, without waiting for the batch timer', async () => {
  const extra = await stack.addGateway();
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  await fetch(extra.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    body: JSON.stringify({ query: '{ viewer { userId } }' }),
  });
  const before = exports.length;
  await extra.gateway.close();
  // The batch processor would wait up to 5 s: the close itself must have sent them.
  expect(exports.length).toBeGreaterThan(before);
  expect(exports.slice(before).join('')).toContain(traceId);
});
