package main_test

import (
	"cmp"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/skript-dev/skript/store/redis/redistest"
)

// otlpReceiver is an OTLP/HTTP trace receiver on loopback: it decodes the
// protobuf requests the exporters send and keeps their spans, each with
// the service that sent it.
type otlpReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans []receivedSpan
}

type receivedSpan struct {
	service string
	span    *tracepb.Span
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "want protobuf on /v1/traces", http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var msg coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range msg.GetResourceSpans() {
			service := ""
			for _, a := range rs.GetResource().GetAttributes() {
				if a.GetKey() == "service.name" {
					service = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					r.spans = append(r.spans, receivedSpan{service: service, span: s})
				}
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *otlpReceiver) received() []receivedSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedSpan(nil), r.spans...)
}

// tracedWorker is a `skript worker` exporting spans to rcv and serving
// metrics on a port of its own.
type tracedWorker struct {
	cmd     *exec.Cmd
	stderr  *syncBuffer
	exited  chan error
	metrics string // the /metrics URL
}

func startTracedWorker(t *testing.T, url, service string, rcv *otlpReceiver) *tracedWorker {
	t.Helper()
	cmd := exec.Command(bin, "worker", "--store", url, "--concurrency", "2", "--metrics-addr", "127.0.0.1:0", "--log-format", "json")
	cmd.Env = append(os.Environ(), "SKRIPT_STORE=", "OTEL_EXPORTER_OTLP_ENDPOINT="+rcv.srv.URL,
		"OTEL_SERVICE_NAME="+service, "OTEL_BSP_SCHEDULE_DELAY=50")
	w := &tracedWorker{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = w.stderr
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { err := cmd.Wait(); close(done); w.exited <- err }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	require.Eventually(t, func() bool {
		for _, l := range strings.Split(w.stderr.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "serving metrics" {
				w.metrics, _ = m["url"].(string)
				return true
			}
		}
		return false
	}, 20*time.Second, 10*time.Millisecond, "the worker says where its metrics are:\n%s", w.stderr.String())
	return w
}

// scrape reads the worker's metrics with the Prometheus text parser.
func (w *tracedWorker) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(w.metrics) //nolint:noctx // a test on loopback
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// counter sums a counter's series whose labels include want.
func counter(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	sum := 0.0
	for _, m := range fams[name].GetMetric() {
		ok := true
		for k, v := range want {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			ok = ok && found
		}
		if ok {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

func (w *tracedWorker) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, w.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-w.exited:
		require.NoError(t, err, "exit 0 after SIGTERM\n%s", w.stderr.String())
		w.exited <- nil // for the cleanup
	case <-time.After(20 * time.Second):
		t.Fatal("worker did not exit after SIGTERM")
	}
}

// A run executed by two `skript worker` processes on one Redis is one
// trace: the run span is its root, every step attempt a child of it, from
// either worker; the retried http step has a span per attempt and a retry
// event, and the service it calls sees the attempt's span in traceparent.
// Each worker's /metrics, scraped during and after the run, counts the
// steps it ran: together, every attempt of the run.
func TestTwoWorkersOneTrace(t *testing.T) {
	rcv := newOTLPReceiver(t)
	var mu sync.Mutex
	var parents []string
	calls := 0
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		parents = append(parents, r.Header.Get("traceparent"))
		calls++
		if calls == 1 {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"ok": true}`))
	}))
	defer api.Close()

	srv := redistest.Start(t)
	url := srv.URL()
	a := startTracedWorker(t, url, "worker-a", rcv)
	b := startTracedWorker(t, url, "worker-b", rcv)
	const n = 8
	flow := writeFlow(t, `name: traced
nodes:
  - id: call
    kind: Action
    action: http
    params: {url: "`+api.URL+`/order"}
    retry: {max_attempts: 2, initial_interval: 50ms}
  - {id: say, kind: Action, action: log, params: {msg: "called"}}
  - id: fan
    kind: Loop
    for_each: "0..7"
    concurrency: 0
    body:
      - {id: nap, kind: Action, action: sleep, params: {duration: 300ms}}
output: "${{ {naps: len(nodes.fan.output)} }}"
`)
	// skript submit has no tracing of its own here: the workers derive the
	// run's trace from its id.
	r := skript(t, "submit", flow, "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.TrimSpace(r.stdout)

	// During the run: the metrics parse and count what has started.
	require.Eventually(t, func() bool {
		return counter(a.scrape(t), "skript_steps_started_total", map[string]string{"action": "sleep"})+
			counter(b.scrape(t), "skript_steps_started_total", map[string]string{"action": "sleep"}) > 0
	}, 20*time.Second, 20*time.Millisecond)
	st := waitStatus(t, url, id)
	require.Equal(t, "succeeded", st.Status, "%v", st.Error)

	// After it: the two workers' counters add up to the run's attempts.
	var started, finished, sleeps, runsEnded float64
	require.Eventually(t, func() bool {
		started, finished, sleeps, runsEnded = 0, 0, 0, 0
		for _, w := range []*tracedWorker{a, b} {
			fams := w.scrape(t)
			started += counter(fams, "skript_steps_started_total", map[string]string{"workflow": "traced"})
			finished += counter(fams, "skript_steps_finished_total", map[string]string{"workflow": "traced"})
			sleeps += counter(fams, "skript_steps_finished_total", map[string]string{"action": "sleep", "outcome": "succeeded"})
			runsEnded += counter(fams, "skript_runs_ended_total", map[string]string{"workflow": "traced", "status": "succeeded"})
		}
		return runsEnded == 1
	}, 10*time.Second, 20*time.Millisecond)
	require.EqualValues(t, 2+1+n, started, "http twice, log, %d sleeps", n)
	require.EqualValues(t, started, finished)
	require.EqualValues(t, n, sleeps)

	// Stopped, the workers send their last spans.
	a.stop(t)
	b.stop(t)
	var spans []receivedSpan
	var root *tracepb.Span
	require.Eventually(t, func() bool {
		spans = rcv.received()
		for _, s := range spans {
			if s.span.GetName() == "run traced" {
				root = s.span
			}
		}
		return root != nil && len(spans) >= 2+1+n+1
	}, 10*time.Second, 20*time.Millisecond, "spans: %d", len(rcv.received()))

	require.Empty(t, root.GetParentSpanId(), "the run span is the root")
	t.Log("the trace:\n" + traceTree(root, spans))
	byNode := map[string][]*tracepb.Span{}
	services := map[string]bool{}
	for _, s := range spans {
		require.Equal(t, root.GetTraceId(), s.span.GetTraceId(), "one trace id (%s)", s.span.GetName())
		if s.span == root {
			continue
		}
		require.Equal(t, root.GetSpanId(), s.span.GetParentSpanId(), "%s is a child of the run span", s.span.GetName())
		require.Equal(t, tracepb.Span_SPAN_KIND_CONSUMER, s.span.GetKind())
		byNode[s.span.GetName()] = append(byNode[s.span.GetName()], s.span)
		services[s.service] = true
	}
	require.Len(t, spans, 2+1+n+1, "the run span and one span per step attempt")
	require.Len(t, byNode["call"], 2)
	require.Len(t, byNode["say"], 1)
	require.Len(t, byNode["nap"], n)
	require.True(t, services["worker-a"] && services["worker-b"], "both workers ran steps: %v", services)

	retried := false
	callSpans := map[string]bool{}
	for _, s := range byNode["call"] {
		callSpans[string(s.GetSpanId())] = true
		for _, ev := range s.GetEvents() {
			retried = retried || ev.GetName() == "retry.scheduled"
		}
		attrs := map[string]bool{}
		for _, kv := range s.GetAttributes() {
			attrs[kv.GetKey()] = true
		}
		for _, k := range []string{"workflow.name", "workflow.execution.id", "skript.node", "skript.action", "skript.attempt", "skript.worker", "skript.partition"} {
			require.True(t, attrs[k], "attribute %s", k)
		}
	}
	require.True(t, retried, "the first attempt's span has a retry.scheduled event")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, parents, 2)
	for _, p := range parents {
		parts := strings.Split(p, "-")
		require.Len(t, parts, 4, "traceparent %q", p)
		require.Equal(t, hex.EncodeToString(root.GetTraceId()), parts[1], "the call joins the run's trace")
		sid, err := hex.DecodeString(parts[2])
		require.NoError(t, err)
		require.True(t, callSpans[string(sid)], "the request names its attempt's span")
	}

	// Every log line of a step names its run, node, attempt and trace.
	var said map[string]any
	for _, w := range []*tracedWorker{a, b} {
		for _, l := range strings.Split(w.stderr.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "called" {
				said = m
			}
		}
	}
	require.NotNil(t, said)
	require.Equal(t, id, said["run"])
	require.Equal(t, "say", said["node"])
	require.EqualValues(t, 1, said["attempt"])
	require.Equal(t, hex.EncodeToString(root.GetTraceId()), said["trace_id"])
}

// traceTree renders a run's trace as text: the run span, then its children
// by start time, with the worker that sent each and its events.
func traceTree(root *tracepb.Span, spans []receivedSpan) string {
	slices.SortFunc(spans, func(a, b receivedSpan) int {
		return cmp.Compare(a.span.GetStartTimeUnixNano(), b.span.GetStartTimeUnixNano())
	})
	ms := func(s *tracepb.Span) string {
		return time.Duration(s.GetEndTimeUnixNano() - s.GetStartTimeUnixNano()).Round(time.Millisecond).String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "trace %s\n%s  %s  span %s\n", hex.EncodeToString(root.GetTraceId()), root.GetName(), ms(root), hex.EncodeToString(root.GetSpanId()))
	for _, s := range spans {
		if s.span == root {
			continue
		}
		attempt := int64(0)
		for _, kv := range s.span.GetAttributes() {
			if kv.GetKey() == "skript.attempt" {
				attempt = kv.GetValue().GetIntValue()
			}
		}
		status := ""
		if s.span.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR {
			status = "  ERROR " + s.span.GetStatus().GetMessage()
		}
		fmt.Fprintf(&b, "  └ %-5s attempt %d  %-6s  %s%s\n", s.span.GetName(), attempt, ms(s.span), s.service, status)
		for _, ev := range s.span.GetEvents() {
			if ev.GetName() != "exception" {
				fmt.Fprintf(&b, "      · %s\n", ev.GetName())
			}
		}
	}
	return b.String()
}

// skript run joins the trace its environment's TRACEPARENT names and sends
// its spans before it exits.
func TestRunJoinsTraceparent(t *testing.T) {
	rcv := newOTLPReceiver(t)
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	cmd := exec.Command(bin, "run", writeFlow(t, oneStep), "--log-format", "json")
	cmd.Env = append(os.Environ(), "SKRIPT_STORE=", "OTEL_EXPORTER_OTLP_ENDPOINT="+rcv.srv.URL, "TRACEPARENT="+parent)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	spans := rcv.received()
	require.Len(t, spans, 2, "the run span and its step's, sent before exit")
	for _, s := range spans {
		require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", hex.EncodeToString(s.span.GetTraceId()))
		if s.span.GetName() == "run one" {
			require.Equal(t, "00f067aa0ba902b7", hex.EncodeToString(s.span.GetParentSpanId()))
		}
	}
}

// Bad observability settings are refused with exit code 2.
func TestBadTelemetrySettings(t *testing.T) {
	flow := writeFlow(t, oneStep)
	r := skript(t, "run", flow, "--log-format", "xml")
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, `--log-format "xml": want text or json`)
	r = skript(t, "run", flow, "--metrics-addr", "256.0.0.1:bad")
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "--metrics-addr")
	cmd := exec.Command(bin, "run", flow)
	cmd.Env = append(os.Environ(), "SKRIPT_STORE=", "OTEL_TRACES_EXPORTER=zipkin")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 2, ee.ExitCode(), string(out))
	require.Contains(t, string(out), "OTEL_TRACES_EXPORTER zipkin: want otlp or none")
}

// skript cancel, with OTEL_* set, ends the span of the run it cancels: the
// trace of a cancelled run has its root too.
func TestCancelEndsTheRunSpan(t *testing.T) {
	rcv := newOTLPReceiver(t)
	srv := redistest.Start(t)
	url := srv.URL()
	w := startTracedWorker(t, url, "worker", rcv)
	r := skript(t, "submit", writeFlow(t, "name: long\nnodes:\n  - {id: nap, kind: Action, action: sleep, params: {duration: 1m}}\n"), "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.TrimSpace(r.stdout)
	require.Eventually(t, func() bool {
		return counter(w.scrape(t), "skript_steps_started_total", nil) == 1
	}, 20*time.Second, 20*time.Millisecond)
	cancel := exec.Command(bin, "cancel", id, "--store", url)
	cancel.Env = append(os.Environ(), "SKRIPT_STORE=", "OTEL_EXPORTER_OTLP_ENDPOINT="+rcv.srv.URL, "OTEL_SERVICE_NAME=canceller")
	out, err := cancel.CombinedOutput()
	require.NoError(t, err, string(out))
	w.stop(t)
	var root *tracepb.Span
	var nap *tracepb.Span
	require.Eventually(t, func() bool {
		for _, s := range rcv.received() {
			switch {
			case s.span.GetName() == "run long" && s.service == "canceller":
				root = s.span
			case s.span.GetName() == "nap":
				nap = s.span
			}
		}
		return root != nil && nap != nil
	}, 10*time.Second, 20*time.Millisecond)
	require.Empty(t, root.GetParentSpanId())
	require.Equal(t, root.GetSpanId(), nap.GetParentSpanId())
	require.Equal(t, tracepb.Status_STATUS_CODE_ERROR, root.GetStatus().GetCode())
	require.Equal(t, tracepb.Status_STATUS_CODE_ERROR, nap.GetStatus().GetCode(), "the step its run's end stopped")
}

// TestServeServesMetrics: skript serve takes --metrics-addr and
// --log-format like worker and run, and its workers' steps are counted.
func TestServeServesMetrics(t *testing.T) {
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--log-format", "json")
	cmd.Env = append(os.Environ(), "SKRIPT_STORE=", "SKRIPT_TOKEN=")
	w := &tracedWorker{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = w.stderr
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { err := cmd.Wait(); close(done); w.exited <- err }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	base := ""
	require.Eventually(t, func() bool {
		for _, l := range strings.Split(w.stderr.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) != nil {
				continue
			}
			switch m["msg"] {
			case "serving metrics":
				w.metrics, _ = m["url"].(string)
			case "serving":
				base, _ = m["addr"].(string)
			}
		}
		return w.metrics != "" && base != ""
	}, 20*time.Second, 10*time.Millisecond, "serve logs where it listens, as JSON:\n%s", w.stderr.String())

	body := `{"workflow": {"source": "name: counted\nnodes: [{id: a, kind: Action, action: noop}, {id: b, kind: Action, action: noop}]"}}`
	resp, err := http.Post(base+"/api/v1/runs", "application/json", strings.NewReader(body)) //nolint:noctx // a test on loopback
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Eventually(t, func() bool {
		return counter(w.scrape(t), "skript_runs_ended_total", map[string]string{"workflow": "counted"}) == 1
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, 2.0, counter(w.scrape(t), "skript_steps_started_total", map[string]string{"workflow": "counted"}))
}
