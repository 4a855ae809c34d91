import { trace } from '@opentelemetry/api';
import { startStack, SUBGRAPH_NAMES, type Stack } from '../helpers/stack';

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack();
  token = await stack.login('agent@acme.example', 'acme');
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(() => stack.resetCalls());

const QUERY = '{ viewer { userId } me { displayName records(first: 1) { nodes { title } } complaints(first: 1) { nodes { subject } } } }';
const parse = (header: unknown) => /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[0-9a-f])$/.exec(String(header));

describe('W3C trace context from the gateway through every subgraph', () => {
  it("continues the caller's trace: every subgraph call carries its trace id, each with a span of its own", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const result = await stack.gql(QUERY, { token, headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(result.body.errors).toBeUndefined();
    const spans = new Set<string>();
    for (const name of SUBGRAPH_NAMES) {
      expect(stack.subgraphs[name].calls.length).toBeGreaterThan(0);
      for (const call of stack.subgraphs[name].calls) {
        const parsed = parse(call.headers.traceparent);
        expect({ name, traceId: parsed?.[1] }).toEqual({ name, traceId });
        expect(parsed?.[2]).not.toBe('00f067aa0ba902b7');
        expect(parsed?.[3]).toBe('01'); // the caller sampled the trace: so does every hop
        spans.add(parsed![2]);
      }
    }
    expect(spans.size).toBe(SUBGRAPH_NAMES.reduce((sum, name) => sum + stack.subgraphs[name].calls.length, 0));
  });

  it('starts a trace when the caller sends none: one trace id for the whole request, not sampled without an exporter', async () => {
    await stack.gql(QUERY, { token });
    const parsed = SUBGRAPH_NAMES.flatMap((name) => stack.subgraphs[name].calls.map((call) => parse(call.headers.traceparent)));
    const traceIds = new Set(parsed.map((header) => header?.[1]));
    expect(traceIds.size).toBe(1);
    expect([...traceIds][0]).toMatch(/^[0-9a-f]{32}$/);
    // No OTLP endpoint is configured here: the gateway records no spans of its own and tells the subgraphs so.
    expect(new Set(parsed.map((header) => header?.[3]))).toEqual(new Set(['00']));
  });

  it("records no span without an exporter, Apollo Gateway's own spans included: the process registers no tracer", () => {
    expect(trace.getTracer('@apollo/gateway').startSpan('probe').isRecording()).toBe(false);
  });
});
