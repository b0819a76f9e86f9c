// Package telemetry is Skript's observability: OpenTelemetry traces of
// runs and their steps across workers, Prometheus metrics, and the fields
// a step's log lines carry. Everything is off unless configured, and off
// costs the runtime one nil check per hook.
//
// Traces are configured by the standard OTEL_* environment variables only
// (see FromEnv); metrics by the program that serves them (NewMetrics).
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// DefaultMaxIterationSpans is how many iterations of a loop get spans for
// their steps: a step in iteration N (0-based) of any enclosing loop, N at
// or above the limit, gets a span only when its attempt fails. A 10,000-way
// for_each thus shows its first iterations and every failure, not 10,000
// spans.
const DefaultMaxIterationSpans = 10

// Telemetry is what a process exports. A nil *Telemetry, or one made with
// neither traces nor metrics, is off.
type Telemetry struct {
	tracer   trace.Tracer // nil: no traces
	provider *sdktrace.TracerProvider
	metrics  *Metrics
	// MaxIterationSpans bounds the spans of loop iterations (see
	// DefaultMaxIterationSpans); 0 means the default, a negative value no
	// bound.
	MaxIterationSpans int
}

// Options set up a Telemetry.
type Options struct {
	// Tracer, when set, is used for spans (a test's, or a host program's
	// own). It must come from a TracerProvider made with IDGenerator, or
	// the run spans will not be their steps' parents.
	Tracer trace.Tracer
	// Metrics, when set, receives the runtime's metrics.
	Metrics *Metrics
}

// New returns a Telemetry from explicit parts (nil when it has none).
func New(o Options) *Telemetry {
	if o.Tracer == nil && o.Metrics == nil {
		return nil
	}
	return &Telemetry{tracer: o.Tracer, metrics: o.Metrics}
}

// IDGenerator returns the span id generator the run spans need: random ids,
// except where the runtime names the run span's id. Give it to
// sdktrace.NewTracerProvider (sdktrace.WithIDGenerator) when bringing a
// TracerProvider of one's own.
func IDGenerator() sdktrace.IDGenerator { return idGenerator{} }

// Tracing reports whether spans are made.
func (t *Telemetry) Tracing() bool { return t != nil && t.tracer != nil }

// Metrics returns the metrics, or nil.
func (t *Telemetry) Metrics() *Metrics {
	if t == nil {
		return nil
	}
	return t.metrics
}

// Shutdown flushes the spans not yet exported and stops the exporter: a
// worker calls it as it exits, so the spans of its last steps are not lost.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil || t.provider == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}

// FromEnv configures traces from the standard OpenTelemetry environment
// variables and attaches metrics m (nil for none). Traces are on when
// OTEL_TRACES_EXPORTER is "otlp", or when it is unset and an OTLP endpoint
// is (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
// OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn them off. The
// protocol is OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
// OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf (the default) or grpc. The
// exporters read the rest (headers, timeout, certificates), the batch
// processor OTEL_BSP_*, the sampler OTEL_TRACES_SAMPLER, the resource
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. service names the
// process when OTEL_SERVICE_NAME does not.
func FromEnv(ctx context.Context, service string, m *Metrics) (*Telemetry, error) {
	on, err := tracesWanted()
	if err != nil {
		return nil, err
	}
	if !on {
		return New(Options{Metrics: m}), nil
	}
	proto := firstEnv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
	var exp sdktrace.SpanExporter
	switch proto {
	case "", "http/protobuf":
		exp, err = otlptracehttp.New(ctx)
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: want http/protobuf or grpc", proto)
	}
	if err != nil {
		return nil, fmt.Errorf("trace exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", service)),
		resource.WithTelemetrySDK(), resource.WithHost(), resource.WithProcessPID(), resource.WithFromEnv())
	if err != nil && res == nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res), sdktrace.WithIDGenerator(idGenerator{}))
	return &Telemetry{tracer: tp.Tracer(instrumentation), provider: tp, metrics: m}, nil
}

// instrumentation names the spans' instrumentation scope.
const instrumentation = "github.com/skript-dev/skript"

func tracesWanted() (bool, error) {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return false, nil
	}
	switch e := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")); e {
	case "none":
		return false, nil
	case "otlp":
		return true, nil
	case "":
		return firstEnv("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "", nil
	default:
		return false, errors.New("OTEL_TRACES_EXPORTER " + e + ": want otlp or none")
	}
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(os.Getenv(n)); v != "" {
			return v
		}
	}
	return ""
}
