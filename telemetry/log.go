package telemetry

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// NewLogger returns a logger writing to w in format "text" or "json" (the
// `--log-format` flag) at level, and whether format is one of those.
// Lines logged with a context holding a span carry its trace and span ids.
func NewLogger(w io.Writer, format string, level slog.Level) (*slog.Logger, bool) {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch strings.ToLower(format) {
	case "text", "":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, false
	}
	return slog.New(traceHandler{h}), true
}

// traceHandler adds the trace and span ids of the context's span to every
// line logged with one.
type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && !hasAttr(r, "trace_id") {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(as)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}

// StepFields are what every log line from a step carries: its run, node
// and attempt, and its trace id (when the run has a trace). A runner that
// runs Inline steps one after the other keeps one StepFields and one
// logger and changes the fields between steps (such an action keeps
// nothing of its Call, its logger included), so a step's logger costs no
// allocation.
type StepFields struct {
	Run     string
	Node    string
	Attempt int
	// Trace is the step's parent traceparent; a line logged with the
	// step's span in its context names that span's trace instead.
	Trace string
}

// NewStepLogger returns a logger adding f's fields, as they are when a
// line is logged, to the lines of base's handler.
func NewStepLogger(base slog.Handler, f *StepFields) *slog.Logger {
	return slog.New(&stepHandler{inner: base, f: f})
}

type stepHandler struct {
	inner slog.Handler
	f     *StepFields
}

func (h *stepHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *stepHandler) Handle(ctx context.Context, r slog.Record) error {
	var have [3]bool // run, node, attempt: a field the line names itself is not repeated
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "run":
			have[0] = true
		case "node":
			have[1] = true
		case "attempt":
			have[2] = true
		}
		return true
	})
	r = r.Clone()
	if !have[0] {
		r.AddAttrs(slog.String("run", h.f.Run))
	}
	if !have[1] {
		r.AddAttrs(slog.String("node", h.f.Node))
	}
	if !have[2] && h.f.Attempt > 0 {
		r.AddAttrs(slog.Int("attempt", h.f.Attempt))
	}
	sc := trace.SpanContextFromContext(ctx)
	switch {
	case sc.IsValid():
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	case h.f.Trace != "":
		r.AddAttrs(slog.String("trace_id", TraceID(h.f.Trace)))
	}
	return h.inner.Handle(ctx, r)
}

func (h *stepHandler) WithAttrs(as []slog.Attr) slog.Handler {
	f := *h.f // a derived logger keeps the fields as they are now
	return &stepHandler{inner: h.inner.WithAttrs(as), f: &f}
}

func (h *stepHandler) WithGroup(name string) slog.Handler {
	f := *h.f
	return &stepHandler{inner: h.inner.WithGroup(name), f: &f}
}

func hasAttr(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			found = true
			return false
		}
		return true
	})
	return found
}
