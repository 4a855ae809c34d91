import { ROOT_CONTEXT, SpanKind, propagation, trace, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * OpenTelemetry tracing with W3C trace context, from the gateway through every subgraph. Spans are always made and
 * propagated (`traceparent` on every subgraph call); they are exported over OTLP/HTTP only when an endpoint is
 * configured. Contexts are passed explicitly (no async-hooks context manager on the request path).
 */
export interface TracingOptions {
  serviceName: string;
  /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces; none: spans are not exported. */
  otlpEndpoint?: string;
}

const propagator = new W3CTraceContextPropagator();
let provider: BasicTracerProvider | undefined;

/** Sets up the process's tracer provider once (later calls reuse it) and returns a tracer for `serviceName`. */
export function initTracing(options: TracingOptions) {
  if (!provider) {
    provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName }),
      spanProcessors: options.otlpEndpoint ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: options.otlpEndpoint }))] : [],
    });
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(propagator);
  }
  const tracer = trace.getTracer(options.serviceName);
  return {
    /** Starts the span of an incoming request, child of the caller's `traceparent` when there is one. */
    startServerSpan(name: string, headers: Record<string, string | string[] | undefined>): { span: Span; context: Context } {
      const parent = propagator.extract(ROOT_CONTEXT, headers, {
        get: (carrier, key) => carrier[key] as string | string[] | undefined,
        keys: (carrier) => Object.keys(carrier),
      });
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
      return { span, context: trace.setSpan(parent, span) };
    },
    /** Starts the span of an outgoing call and writes its `traceparent` (and `tracestate`) into `headers`. */
    startClientSpan(name: string, parent: Context | undefined, headers: Record<string, string>): Span {
      const span = tracer.startSpan(name, { kind: SpanKind.CLIENT }, parent ?? ROOT_CONTEXT);
      propagator.inject(trace.setSpan(parent ?? ROOT_CONTEXT, span), headers, { set: (carrier, key, value) => (carrier[key] = value) });
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
