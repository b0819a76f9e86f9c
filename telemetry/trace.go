package telemetry

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"math/rand/v2"

	"go.opentelemetry.io/otel/trace"
)

// A run's trace, across processes.
//
// The process that starts a run keeps a traceparent with it (store.Run's
// Trace): its own span context when it has one (the Go API's ctx, the
// TRACEPARENT of the CLI's environment, an HTTP request), else a new trace
// whose parent-id is the run span's own id, which marks the run span as the
// trace's root. The run span's id is derived from the run id (RunSpanID), so
// every worker knows it without reading anything more: the step spans any
// worker makes are its children, and the worker that ends the run emits the
// run span itself, backdated to the run's creation.
//
// A run started with no trace context by a process without tracing gets
// the trace DerivedTrace names, the same in every worker.
//
// The tasks of a run carry the run span's traceparent (store.Task's Trace),
// the parent of their steps' spans; a task built by a driver without it (the
// children of a group, made inside the store) takes it from the run's
// header, which the worker reads anyway.

// RunSpanID is the span id of a run's span: the 64-bit FNV-1a hash of the
// run id (never zero, which W3C reserves).
func RunSpanID(runID string) trace.SpanID {
	h := fnv.New64a()
	_, _ = h.Write([]byte(runID))
	n := h.Sum64()
	if n == 0 {
		n = 1
	}
	var id trace.SpanID
	binary.BigEndian.PutUint64(id[:], n)
	return id
}

// DerivedTrace is the trace of a run whose header has none (it was started
// by a process without tracing, such as skript submit): its trace id is the
// 128-bit FNV-1a hash of the run id, so every worker names the same trace
// without asking anyone, and the run span is its root. It is sampled.
func DerivedTrace(runID string) string {
	h := fnv.New128a()
	_, _ = h.Write([]byte(runID))
	var tid trace.TraceID
	copy(tid[:], h.Sum(nil))
	if !tid.IsValid() {
		tid[15] = 1
	}
	return FormatTraceparent(trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: RunSpanID(runID), TraceFlags: trace.FlagsSampled}))
}

// FormatTraceparent formats a span context as a W3C traceparent header
// value (version 00).
func FormatTraceparent(sc trace.SpanContext) string {
	flags := "00"
	if sc.IsSampled() {
		flags = "01"
	}
	return "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + flags
}

// ParseTraceparent reads a W3C traceparent header value; ok is false when
// it is not one (any version, as the recommendation asks of a reader, but
// only the fields version 00 defines are read).
func ParseTraceparent(s string) (sc trace.SpanContext, ok bool) {
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' || (len(s) > 55 && s[55] != '-') || s[:2] == "ff" {
		return trace.SpanContext{}, false
	}
	if s[:2] == "00" && len(s) != 55 {
		return trace.SpanContext{}, false
	}
	tid, err := trace.TraceIDFromHex(s[3:35])
	if err != nil {
		return trace.SpanContext{}, false
	}
	sid, err := trace.SpanIDFromHex(s[36:52])
	if err != nil {
		return trace.SpanContext{}, false
	}
	fl, err := hex.DecodeString(s[53:55])
	if err != nil {
		return trace.SpanContext{}, false
	}
	flags := trace.TraceFlags(fl[0]) & trace.FlagsSampled
	sc = trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: flags, Remote: true})
	return sc, sc.IsValid()
}

// TraceID returns the trace id of a traceparent ("" when it is none), for
// log lines: a substring, so it costs nothing.
func TraceID(traceparent string) string {
	if len(traceparent) < 55 || traceparent[2] != '-' || traceparent[35] != '-' {
		return ""
	}
	return traceparent[3:35]
}

// TaskTrace returns the traceparent a run's tasks carry: the run span's, in
// the trace the run's header names. It is "" when the run has no trace.
func TaskTrace(runTrace, runID string) string {
	sc, ok := ParseTraceparent(runTrace)
	if !ok {
		return ""
	}
	return FormatTraceparent(sc.WithSpanID(RunSpanID(runID)))
}

// forcedIDs, in a context, makes the next span started with it take these
// ids (the zero TraceID: keep the parent's): the run span, emitted by
// whichever process ends the run, has the id every step span already
// names as its parent.
type forcedIDs struct {
	trace trace.TraceID
	span  trace.SpanID
}

type forcedKey struct{}

// idGenerator gives spans random ids, unless their context forces them.
type idGenerator struct{}

func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if f, ok := ctx.Value(forcedKey{}).(forcedIDs); ok && f.trace.IsValid() {
		return f.trace, f.span
	}
	var tid trace.TraceID
	for !tid.IsValid() {
		binary.BigEndian.PutUint64(tid[:8], rand.Uint64())
		binary.BigEndian.PutUint64(tid[8:], rand.Uint64())
	}
	return tid, randomSpanID()
}

func (idGenerator) NewSpanID(ctx context.Context, _ trace.TraceID) trace.SpanID {
	if f, ok := ctx.Value(forcedKey{}).(forcedIDs); ok && f.span.IsValid() {
		return f.span
	}
	return randomSpanID()
}

func randomSpanID() trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.BigEndian.PutUint64(sid[:], rand.Uint64())
	}
	return sid
}
