import { randomFillSync } from 'node:crypto';
import {
  ROOT_CONTEXT,
  SpanKind,
  TraceFlags,
  isSpanContextValid,
  propagation,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * OpenTelemetry tracing with W3C trace context, from the gateway through every subgraph. Every request has a trace
 * id, logged and propagated (`traceparent` on every subgraph call). With an OTLP/HTTP endpoint configured, the
 * process registers the OpenTelemetry SDK: every span is recorded and exported, Apollo Gateway's own (plan, fetch,
 * post-processing) included. Without one, no SDK is registered and no span is recorded — Apollo's spans are no-ops —
 * and the trace context is only carried on: the caller's trace id and sampled flag, or a new unsampled trace (flag
 * `00`). Contexts are passed explicitly (no async-hooks context manager on the request path).
 */
export interface TracingOptions {
  serviceName: string;
  /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces; none: spans are not recorded. */
  otlpEndpoint?: string;
}

const propagator = new W3CTraceContextPropagator();
const headerGetter: TextMapGetter<Record<string, string | string[] | undefined>> = {
  get: (carrier, key) => carrier[key],
  keys: (carrier) => Object.keys(carrier),
};
const headerSetter: TextMapSetter<Record<string, string>> = { set: (carrier, key, value) => (carrier[key] = value) };
let provider: BasicTracerProvider | undefined;

// Span and trace ids for the propagate-only mode, hex from a pool of random bytes refilled 4 KiB at a time.
const idPool = Buffer.allocUnsafe(4096);
let idOffset = idPool.length;
function randomHex(bytes: number): string {
  if (idOffset + bytes > idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  idOffset += bytes;
  return idPool.toString('hex', idOffset - bytes, idOffset);
}

/** A non-recording span that continues `parent`'s trace (or starts an unsampled one) with a span id of its own. */
function propagatedSpan(parent: Context): Span {
  const parentSpan = trace.getSpanContext(parent);
  const continued = parentSpan !== undefined && isSpanContextValid(parentSpan);
  return trace.wrapSpanContext({
    traceId: continued ? parentSpan.traceId : randomHex(16),
    spanId: randomHex(8),
    traceFlags: continued ? parentSpan.traceFlags : TraceFlags.NONE,
    traceState: continued ? parentSpan.traceState : undefined,
  });
}

/**
 * Returns the tracing of `serviceName`. The first call with an endpoint registers the process's tracer provider
 * (later calls reuse it); calls without one, before that, only propagate.
 */
export function initTracing(options: TracingOptions) {
  if (!provider && options.otlpEndpoint) {
    provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: options.otlpEndpoint }))],
    });
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(propagator);
  }
  const tracer = provider ? trace.getTracer(options.serviceName) : undefined;
  const startSpan = (name: string, kind: SpanKind, parent: Context) =>
    tracer ? tracer.startSpan(name, { kind }, parent) : propagatedSpan(parent);
  return {
    /** Starts the span of an incoming request, child of the caller's `traceparent` when there is one. */
    startServerSpan(name: string, headers: Record<string, string | string[] | undefined>): { span: Span; context: Context } {
      const parent = propagator.extract(ROOT_CONTEXT, headers, headerGetter);
      const span = startSpan(name, SpanKind.SERVER, parent);
      return { span, context: trace.setSpan(parent, span) };
    },
    /** Starts the span of an outgoing call and writes its `traceparent` (and `tracestate`) into `headers`. */
    startClientSpan(name: string, parent: Context | undefined, headers: Record<string, string>): Span {
      const span = startSpan(name, SpanKind.CLIENT, parent ?? ROOT_CONTEXT);
      propagator.inject(trace.setSpan(parent ?? ROOT_CONTEXT, span), headers, headerSetter);
      return span;
    },
  };
}
export type Tracing = ReturnType<typeof initTracing>;

/** Sends the spans batched so far (a closing server calls it: what it recorded must not wait for a timer). */
export async function flushTracing(): Promise<void> {
  await provider?.forceFlush();
}

/** Flushes and stops the exporter (on shutdown). */
export async function shutdownTracing(): Promise<void> {
  await provider?.shutdown();
  provider = undefined;
}
