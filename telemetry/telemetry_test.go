package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/skript-dev/skript/telemetry"
)

func TestTraceparent(t *testing.T) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	sc, ok := telemetry.ParseTraceparent(tp)
	require.True(t, ok)
	require.True(t, sc.IsSampled())
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", sc.TraceID().String())
	require.Equal(t, tp, telemetry.FormatTraceparent(sc))
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", telemetry.TraceID(tp))

	_, ok = telemetry.ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future")
	require.True(t, ok, "a later version is read for the fields it shares")
	for _, bad := range []string{"", "garbage", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz"} {
		_, ok := telemetry.ParseTraceparent(bad)
		require.False(t, ok, bad)
		require.Empty(t, telemetry.TaskTrace(bad, "run"), bad)
	}
}

// Every worker derives the same run span id and, for a run without a
// trace, the same trace, whose root is the run span.
func TestDerivedIDs(t *testing.T) {
	require.Equal(t, telemetry.RunSpanID("r1"), telemetry.RunSpanID("r1"))
	require.NotEqual(t, telemetry.RunSpanID("r1"), telemetry.RunSpanID("r2"))
	d := telemetry.DerivedTrace("r1")
	require.Equal(t, d, telemetry.DerivedTrace("r1"))
	sc, ok := telemetry.ParseTraceparent(d)
	require.True(t, ok)
	require.Equal(t, telemetry.RunSpanID("r1"), sc.SpanID())
	require.Equal(t, d, telemetry.TaskTrace(d, "r1"))
}

func newTracer(t *testing.T) (*telemetry.Telemetry, *tracetest.InMemoryExporter) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithIDGenerator(telemetry.IDGenerator()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return telemetry.New(telemetry.Options{Tracer: tp.Tracer("test")}), exp
}

// Steps of loop iterations past the limit get no span unless they fail.
func TestIterationSpansAreBounded(t *testing.T) {
	tel, exp := newTracer(t)
	tp := telemetry.TaskTrace(telemetry.DerivedTrace("r"), "r")
	for i := range 100 {
		_, st := tel.StartStep(context.Background(), telemetry.StepInfo{Run: "r", Node: "n", Frame: "outer[0]/each[" + strconv.Itoa(i) + "]", Trace: tp})
		var err error
		if i == 50 {
			err = context.DeadlineExceeded
		}
		st.Ended(err, st0)
		st.End(st0, false)
	}
	spans := exp.GetSpans()
	require.Len(t, spans, telemetry.DefaultMaxIterationSpans+1)
	last := spans[len(spans)-1]
	require.Equal(t, "outer[0]/each[50]", attr(last, "skript.frame"))
	require.Equal(t, "Error", last.Status.Code.String())
}

func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

// Telemetry off: no trace unless the caller has one, and no spans.
func TestOffCostsNothing(t *testing.T) {
	var tel *telemetry.Telemetry
	require.False(t, tel.Tracing())
	require.Nil(t, tel.Metrics())
	require.Empty(t, tel.StartTrace(context.Background(), "r", "wf"))
	ctx, st := tel.StartStep(context.Background(), telemetry.StepInfo{Trace: telemetry.DerivedTrace("r")})
	require.False(t, st.On())
	require.False(t, trace.SpanContextFromContext(ctx).IsValid())
	allocs := testing.AllocsPerRun(100, func() {
		_ = tel.StartTrace(context.Background(), "r", "wf")
		_, st := tel.StartStep(context.Background(), telemetry.StepInfo{})
		st.Ended(nil, st0)
		st.End(st0, false)
	})
	require.Zero(t, allocs)

	on, _ := newTracer(t)
	sc, ok := telemetry.ParseTraceparent(on.StartTrace(context.Background(), "r", "wf"))
	require.True(t, ok)
	require.Equal(t, telemetry.RunSpanID("r"), sc.SpanID(), "a new trace marks the run span as its root")
}

// A step's log lines carry its run, node, attempt and trace id; a line
// logged under a span names that span.
func TestStepLogger(t *testing.T) {
	var buf bytes.Buffer
	base, ok := telemetry.NewLogger(&buf, "json", slog.LevelInfo)
	require.True(t, ok)
	_, ok = telemetry.NewLogger(&buf, "xml", slog.LevelInfo)
	require.False(t, ok)
	f := &telemetry.StepFields{Run: "r1", Node: "a", Attempt: 2, Trace: telemetry.DerivedTrace("r1")}
	l := telemetry.NewStepLogger(base.Handler(), f)
	l.Info("one", "node", "a")
	f.Node, f.Attempt = "b", 1
	l.With("k", "v").Info("two")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	var one, two map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &one))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &two))
	require.Equal(t, "r1", one["run"])
	require.Equal(t, "a", one["node"])
	require.EqualValues(t, 2, one["attempt"])
	require.Equal(t, telemetry.TraceID(telemetry.DerivedTrace("r1")), one["trace_id"])
	require.Equal(t, "b", two["node"], "the fields as they are when the line is logged")
	require.Equal(t, "v", two["k"])
	require.Equal(t, 1, strings.Count(lines[0], `"node"`), "a node the line names is not repeated")
}

// st0 is any time: the spans' times do not matter here.
var st0 = time.Unix(1_700_000_000, 0)
