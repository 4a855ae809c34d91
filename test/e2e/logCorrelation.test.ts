import { eventually } from '../helpers/eventually';
import { captureLogs } from '../helpers/logSink';
import { startStack, type Stack } from '../helpers/stack';

/** Every log line of a request, at the gateway and in the subgraphs it calls, names its request id and trace id. */
const { stream: sink, lines } = captureLogs();

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack({ logger: { level: 'debug', stream: sink } });
  token = await stack.login('member@acme.example', 'acme');
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const linesOf = (requestId: string) => lines.filter((line) => line.requestId === requestId);

it('ties the gateway and subgraph lines of a request to its request id and one trace id', async () => {
  const result = await stack.gql('{ me { displayName records(first: 1) { nodes { title } } } }', { token });
  const requestId = result.headers.get('x-request-id')!;
  await eventually(
    () => linesOf(requestId).filter((line) => line.msg === 'operation resolved').length === 2,
    30_000,
    20,
    'both subgraph lines',
  );
  const mine = linesOf(requestId);
  expect(mine.map((line) => line.msg)).toEqual(expect.arrayContaining(['request executed', 'operation resolved']));
  expect(mine.filter((line) => line.msg === 'operation resolved').length).toBe(2); // users, then records
  const traceIds = new Set(mine.map((line) => line.traceId));
  expect(traceIds.size).toBe(1);
  expect([...traceIds][0]).toMatch(/^[0-9a-f]{32}$/);
});

it('ties a subgraph failure and a refusal to the request that met them', async () => {
  await stack.subgraphs.records.app.close(); // the records subgraph is gone: its fields fail
  const result = await stack.gql('{ me { displayName records(first: 1) { nodes { title } } } }', { token });
  expect(result.body.data.me.displayName).toBe('Acme Member');
  const requestId = result.headers.get('x-request-id')!;
  const unreachable = linesOf(requestId).find((line) => line.msg === 'subgraph unreachable');
  expect(unreachable).toMatchObject({ subgraph: 'records', requestId, traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
  const refused = await stack.gql('{ me { id } }', { token: 'not.a.token' });
  const refusal = linesOf(refused.headers.get('x-request-id')!).find((line) => line.msg === 'request refused before execution');
  expect(refusal).toMatchObject({ reason: 'token_malformed', traceId: expect.any(String) });
});
