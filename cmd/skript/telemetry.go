package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel/trace"

	"github.com/skript-dev/skript/telemetry"
)

// telemetryFlags are the observability flags of the commands that run
// work (worker, run): where to serve Prometheus metrics and how to write
// logs. Traces take no flag: the OTEL_* environment variables configure
// them (see docs/observability.md).
type telemetryFlags struct {
	metricsAddr string
	logFormat   string
}

func (f *telemetryFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.metricsAddr, "metrics-addr", "",
		"serve Prometheus metrics at http://ADDR/metrics (e.g. :9464; empty: no metrics)")
	cmd.Flags().StringVar(&f.logFormat, "log-format", "text", "log lines as text or json")
}

// logger returns the logger --log-format asks for, writing to w, or an
// exit-2 error for a format it does not know.
func (f *telemetryFlags) logger(w io.Writer) (*slog.Logger, error) {
	l, ok := telemetry.NewLogger(w, f.logFormat, slog.LevelInfo)
	if !ok {
		return nil, exit(2, fmt.Errorf("--log-format %q: want text or json", f.logFormat))
	}
	return l, nil
}

// start sets up what the flags and the OTEL_* variables ask for: metrics
// served on --metrics-addr until ctx is done, traces exported to an OTLP
// collector. The returned stop flushes the spans not yet sent; call it as
// the command ends. A bad setting is an exit-2 error.
func (f *telemetryFlags) start(ctx context.Context, log *slog.Logger) (*telemetry.Telemetry, func(), error) {
	var m *telemetry.Metrics
	if f.metricsAddr != "" {
		m = telemetry.NewMetrics()
		addr, err := m.Serve(ctx, f.metricsAddr)
		if err != nil {
			return nil, nil, exit(2, fmt.Errorf("--metrics-addr: %w", err))
		}
		log.Info("serving metrics", "url", "http://"+addr.String()+"/metrics")
	}
	tel, err := telemetry.FromEnv(ctx, "skript", m)
	if err != nil {
		return nil, nil, exit(2, err)
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tel.Shutdown(sctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("could not send the last spans", "err", err)
		}
	}
	return tel, stop, nil
}

// tracesFromEnv sets up traces only, from the OTEL_* variables, for a
// command that ends runs without running them (cancel): it emits the span
// of a run it cancels. The returned stop sends it.
func tracesFromEnv(ctx context.Context) (*telemetry.Telemetry, func(), error) {
	tel, err := telemetry.FromEnv(ctx, "skript", nil)
	if err != nil {
		return nil, nil, exit(2, err)
	}
	return tel, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = tel.Shutdown(sctx)
	}, nil
}

// withParentTrace returns ctx under the trace context the environment's
// TRACEPARENT names (as CI systems and other tools pass it to the
// programs they start), so that a run started from the command line joins
// the caller's trace; ctx as it is when there is none.
func withParentTrace(ctx context.Context) context.Context {
	sc, ok := telemetry.ParseTraceparent(os.Getenv("TRACEPARENT"))
	if !ok {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}
