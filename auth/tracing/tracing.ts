import {
  ROOT_CONTEXT,
  SpanKind,
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
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
} from '@opentelemetry/sdk-trace-base';

/**
 * OpenTelemetry tracing with W3C trace context, from the gateway through every subgraph. Every request has a trace
 * id, logged and propagated (`traceparent` on every subgraph call). Spans are recorded and exported over OTLP/HTTP
 * when an endpoint is configured; without one, a request's spans are recorded only when its caller sampled the
 * trace (flag 01), so that nothing is spent on spans no one will see. Contexts are passed explicitly (no
 * async-hooks context manager on the request path).
 */
export interface TracingOptions {
  serviceName: string;
  /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces; none: spans are not exported. */
  otlpEndpoint?: string;
}

const propagator = new W3CTraceContextPropagator();
const headerGetter: TextMapGetter<Record<string, string | string[] | undefined>> = {
  get: (carrier, key) => carrier[key],
  keys: (carrier) => Object.keys(carrier),
};
const headerSetter: TextMapSetter<Record<string, string>> = { set: (carrier, key, value) => (carrier[key] = value) };
let provider: BasicTracerProvider | undefined;

/** Sets up the process's tracer provider once (later calls reuse it) and returns a tracer for `serviceName`. */
export function initTracing(options: TracingOptions) {
  if (!provider) {
    provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName }),
      spanProcessors: options.otlpEndpoint ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: options.otlpEndpoint }))] : [],
      sampler: new ParentBasedSampler({ root: options.otlpEndpoint ? new AlwaysOnSampler() : new AlwaysOffSampler() }),
    });
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(propagator);
  }
  const tracer = trace.getTracer(options.serviceName);
  return {
    /** Starts the span of an incoming request, child of the caller's `traceparent` when there is one. */
    startServerSpan(name: string, headers: Record<string, string | string[] | undefined>): { span: Span; context: Context } {
      const parent = propagator.extract(ROOT_CONTEXT, headers, headerGetter);
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
      return { span, context: trace.setSpan(parent, span) };
    },
    /** Starts the span of an outgoing call and writes its `traceparent` (and `tracestate`) into `headers`. */
    startClientSpan(name: string, parent: Context | undefined, headers: Record<string, string>): Span {
      const span = tracer.startSpan(name, { kind: SpanKind.CLIENT }, parent ?? ROOT_CONTEXT);
      propagator.inject(trace.setSpan(parent ?? ROOT_CONTEXT, span), headers, headerSetter);
      return span;
    },
  };
}
export type Tracing = ReturnType<typeof initTracing>;

/** Flushes and stops the exporter (on shutdown). */
export async function shutdownTracing(): Promise<void> {
  await provider?.shutdown();
  provider = undefined;
}
