package runtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis/redistest"
	"github.com/skript-dev/skript/telemetry"
)

// syncBuffer is a log sink written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const tracedFlow = `name: traced
nodes:
  - id: call
    kind: Action
    action: http
    params: {url: "${{ input.url }}"}
    retry: {max_attempts: 2, initial_interval: 10ms}
  - {id: say, kind: Action, action: log, params: {msg: hello}}
  - id: each
    kind: Loop
    for_each: "${{ [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15] }}"
    concurrency: 4
    body:
      - {id: item, kind: Action, action: set, params: {v: "${{ item }}"}}
inputs:
  url: {type: string, required: true}
`

// A run on an engine with telemetry: one trace, the run span its root, a
// child span per step attempt (the loop's first iterations only), a retry
// event, the http request carrying the attempt's span; the metrics count
// the steps; every log line of a step names its run, node, attempt and
// trace.
func TestTelemetryTracesMetricsAndLogs(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		var hits atomic.Int32
		var mu sync.Mutex
		var parents []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			parents = append(parents, r.Header.Get("traceparent"))
			mu.Unlock()
			if hits.Add(1) == 1 {
				http.Error(w, "not yet", http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte(`{"ok": true}`))
		}))
		defer srv.Close()

		exp := tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithIDGenerator(telemetry.IDGenerator()))
		defer func() { _ = tp.Shutdown(context.Background()) }()
		m := telemetry.NewMetrics()
		tel := telemetry.New(telemetry.Options{Tracer: tp.Tracer("test"), Metrics: m})
		var logs syncBuffer
		logger, ok := telemetry.NewLogger(&logs, "json", 0)
		require.True(t, ok)

		reg := action.Builtins()
		bp, errs := compiler.Compile("flow.yaml", []byte(tracedFlow), compiler.Options{Registry: reg})
		require.Empty(t, errs)
		eng := runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg), runtime.WithLogger(logger), runtime.WithTelemetry(tel))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		stop := work(ctx, eng)
		defer stop()
		run, err := eng.Start(ctx, bp, map[string]any{"url": srv.URL})
		require.NoError(t, err)
		res, err := run.Wait(ctx)
		require.NoError(t, err)
		require.Equal(t, store.Succeeded, res.Status, "%v", res.Error)

		runSpanID := telemetry.RunSpanID(run.ID)
		var spans tracetest.SpanStubs
		require.Eventually(t, func() bool {
			spans = exp.GetSpans()
			for _, s := range spans {
				if s.SpanContext.SpanID() == runSpanID {
					return true
				}
			}
			return false
		}, 10*time.Second, 10*time.Millisecond, "the run span is emitted as the run ends")

		byNode := map[string][]tracetest.SpanStub{}
		tid := spans[0].SpanContext.TraceID()
		for _, s := range spans {
			require.Equal(t, tid, s.SpanContext.TraceID(), "one trace: %s", s.Name)
			if s.SpanContext.SpanID() == runSpanID {
				require.Equal(t, "run traced", s.Name)
				require.False(t, s.Parent.IsValid(), "the run span is the root")
				continue
			}
			require.Equal(t, runSpanID, s.Parent.SpanID(), "%s is a child of the run span", s.Name)
			require.Equal(t, trace.SpanKindConsumer, s.SpanKind)
			byNode[s.Name] = append(byNode[s.Name], s)
		}
		require.Len(t, byNode["call"], 2, "one span per attempt")
		require.Len(t, byNode["say"], 1)
		require.Len(t, byNode["item"], telemetry.DefaultMaxIterationSpans, "iterations past the limit are not traced")

		var retried bool
		ids := map[string]bool{}
		for _, s := range byNode["call"] {
			ids[s.SpanContext.SpanID().String()] = true
			for _, ev := range s.Events {
				if ev.Name == "retry.scheduled" {
					retried = true
				}
			}
		}
		require.True(t, retried, "the failed attempt's span has a retry event")
		mu.Lock()
		require.Len(t, parents, 2)
		for _, p := range parents {
			sc, ok := telemetry.ParseTraceparent(p)
			require.True(t, ok, "traceparent %q", p)
			require.Equal(t, tid, sc.TraceID())
			require.True(t, ids[sc.SpanID().String()], "the request names its attempt's span")
		}
		mu.Unlock()

		// The log line of the log step.
		var line map[string]any
		for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(l), &m), l)
			if m["msg"] == "hello" {
				line = m
			}
		}
		require.NotNil(t, line, logs.String())
		require.Equal(t, run.ID, line["run"])
		require.Equal(t, "say", line["node"])
		require.EqualValues(t, 1, line["attempt"])
		require.Equal(t, tid.String(), line["trace_id"])

		// The metrics count every attempt.
		fams, err := m.Registry().Gather()
		require.NoError(t, err)
		got := map[string]float64{}
		for _, f := range fams {
			for _, mm := range f.GetMetric() {
				got[f.GetName()+labels(mm)] += mm.GetCounter().GetValue()
			}
		}
		require.EqualValues(t, 2, got[`skript_steps_started_total{action="http",workflow="traced"}`])
		require.EqualValues(t, 1, got[`skript_steps_finished_total{action="http",outcome="failed",workflow="traced"}`])
		require.EqualValues(t, 1, got[`skript_steps_finished_total{action="http",outcome="succeeded",workflow="traced"}`])
		require.EqualValues(t, 15, got[`skript_steps_started_total{action="set",workflow="traced"}`])
		require.EqualValues(t, 1, got[`skript_retries_scheduled_total{workflow="traced"}`])
		require.EqualValues(t, 1, got[`skript_runs_started_total{workflow="traced"}`])
		require.Eventually(t, func() bool {
			fams, _ := m.Registry().Gather()
			for _, f := range fams {
				if f.GetName() == "skript_runs_ended_total" {
					return len(f.GetMetric()) == 1 && labels(f.GetMetric()[0]) == `{status="succeeded",workflow="traced"}`
				}
			}
			return false
		}, 5*time.Second, 10*time.Millisecond)
	})
}

func labels(m *dto.Metric) string {
	if len(m.GetLabel()) == 0 {
		return ""
	}
	parts := make([]string, 0, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+`="`+l.GetValue()+`"`)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// A run started under a span joins that span's trace: the run span is
// its child. A Wait entered shows as an event of the step before it.
func TestTelemetryRunJoinsCallersTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithIDGenerator(telemetry.IDGenerator()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tel := telemetry.New(telemetry.Options{Tracer: tp.Tracer("test")})
	reg := action.Builtins()
	bp, errs := compiler.Compile("flow.yaml", []byte("name: child\nnodes:\n  - {id: a, kind: Action, action: noop}\n  - {id: w, kind: Wait, duration: 10ms}\n"), compiler.Options{Registry: reg})
	require.Empty(t, errs)
	eng := runtime.New(runtime.WithTelemetry(tel))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stop := work(ctx, eng)
	defer stop()
	pctx, parent := tp.Tracer("caller").Start(ctx, "caller")
	run, err := eng.Start(pctx, bp, nil)
	require.NoError(t, err)
	parent.End()
	_, err = run.Wait(ctx)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(exp.GetSpans()) == 3 }, 5*time.Second, 10*time.Millisecond)
	for _, s := range exp.GetSpans() {
		require.Equal(t, parent.SpanContext().TraceID(), s.SpanContext.TraceID())
		switch s.Name {
		case "run child":
			require.Equal(t, parent.SpanContext().SpanID(), s.Parent.SpanID())
		case "a":
			require.Len(t, s.Events, 1)
			require.Equal(t, "wait.started", s.Events[0].Name, "the step whose transition enters the Wait")
		}
	}
}

// A task whose lease lapsed on a dead worker: the attempt that takes it
// over says so in its span and the metrics; past the delivery limit, the
// step fails unrun and the metrics count it.
func TestTelemetryLeaseTakenOverAndDeliveryLimit(t *testing.T) {
	tg := redistest.New(t)
	for _, dead := range []int{1, 2} {
		t.Run(strconv.Itoa(dead)+" dead", func(t *testing.T) {
			f := newPoisonFlow(t, tg, "name: poisoned\nnodes:\n  - {id: p, kind: Action, action: poison}\n")
			exp := tracetest.NewInMemoryExporter()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithIDGenerator(telemetry.IDGenerator()))
			defer func() { _ = tp.Shutdown(context.Background()) }()
			m := telemetry.NewMetrics()
			f.eng = runtime.New(runtime.WithStore(f.st), runtime.WithRegistry(f.eng.Registry()),
				runtime.WithTelemetry(telemetry.New(telemetry.Options{Tracer: tp.Tracer("test"), Metrics: m})))
			res := f.run(dead)
			var step *tracetest.SpanStub
			require.Eventually(t, func() bool {
				for _, s := range exp.GetSpans() {
					if s.Name == "p" {
						step = &s
						return true
					}
				}
				return false
			}, 5*time.Second, 10*time.Millisecond)
			events := []string{}
			for _, ev := range step.Events {
				events = append(events, ev.Name)
			}
			require.Contains(t, events, "lease.taken_over")
			require.Equal(t, strconv.Itoa(dead+1), attr(*step, "messaging.message.delivery_count"))
			fams, err := m.Registry().Gather()
			require.NoError(t, err)
			got := map[string]float64{}
			for _, fam := range fams {
				for _, mm := range fam.GetMetric() {
					got[fam.GetName()] += mm.GetCounter().GetValue()
				}
			}
			require.EqualValues(t, 1, got["skript_leases_taken_over_total"])
			if dead == maxDeliveries {
				require.Equal(t, store.Failed, res.Status)
				require.EqualValues(t, 1, got["skript_delivery_limit_failures_total"])
				require.Equal(t, "Error", step.Status.Code.String())
			} else {
				require.Equal(t, store.Succeeded, res.Status, "%v", res.Error)
				require.EqualValues(t, 0, got["skript_delivery_limit_failures_total"])
			}
		})
	}
}

func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

// A step running as its run is cancelled: its span says so, the metrics
// count it cancelled, and the canceller emits the run span.
func TestTelemetryCancelledStep(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithIDGenerator(telemetry.IDGenerator()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	m := telemetry.NewMetrics()
	reg := action.Builtins()
	bp, errs := compiler.Compile("flow.yaml", []byte("name: long\nnodes:\n  - {id: nap, kind: Action, action: sleep, params: {duration: 1m}}\n"),
		compiler.Options{Registry: reg})
	require.Empty(t, errs)
	eng := runtime.New(runtime.WithTelemetry(telemetry.New(telemetry.Options{Tracer: tp.Tracer("test"), Metrics: m})))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stop := work(ctx, eng)
	defer stop()
	run, err := eng.Start(ctx, bp, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		fams, _ := m.Registry().Gather()
		for _, f := range fams {
			if f.GetName() == "skript_steps_started_total" {
				return true
			}
		}
		return false
	}, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, run.Cancel(ctx))
	res, err := run.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Cancelled, res.Status)
	var names []string
	require.Eventually(t, func() bool {
		names = names[:0]
		for _, s := range exp.GetSpans() {
			names = append(names, s.Name+":"+s.Status.Description)
		}
		return len(names) == 2
	}, 10*time.Second, 10*time.Millisecond)
	require.ElementsMatch(t, []string{"nap:cancelled", "run long:cancelled"}, names)
	fams, err := m.Registry().Gather()
	require.NoError(t, err)
	found := false
	for _, f := range fams {
		for _, mm := range f.GetMetric() {
			if f.GetName() == "skript_steps_finished_total" {
				require.Equal(t, `{action="sleep",outcome="cancelled",workflow="long"}`, labels(mm))
				found = true
			}
			if f.GetName() == "skript_runs_ended_total" {
				require.Equal(t, `{status="cancelled",workflow="long"}`, labels(mm))
			}
		}
	}
	require.True(t, found)
}
