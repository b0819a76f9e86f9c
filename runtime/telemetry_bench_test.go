package runtime_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/telemetry"
)

// BenchmarkFanoutMetrics is BenchmarkFanout with Prometheus metrics on:
// what counting every step costs.
func BenchmarkFanoutMetrics(b *testing.B) {
	benchFanout(b, runtime.WithTelemetry(telemetry.New(telemetry.Options{Metrics: telemetry.NewMetrics()})))
}

// BenchmarkFanoutTraced is BenchmarkFanout with metrics and traces on, the
// spans batched to an exporter that drops them: what tracing costs
// (2000-way loops, so all but the first iterations' steps go unspanned).
func BenchmarkFanoutTraced(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()), sdktrace.WithIDGenerator(telemetry.IDGenerator()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	benchFanout(b, runtime.WithTelemetry(telemetry.New(telemetry.Options{Tracer: tp.Tracer("bench"), Metrics: telemetry.NewMetrics()})))
}
