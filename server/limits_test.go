package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/schedule"
	"github.com/skript-dev/skript/server"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis/redistest"
)

func TestAuth(t *testing.T) {
	ts := startServer(t, options{cfg: server.Config{Tokens: []string{"s3cret-one", "s3cret-two"}}})
	ts.token = ""
	r := ts.do(t, http.MethodGet, "/api/v1/runs", nil)
	require.Equal(t, http.StatusUnauthorized, r.StatusCode)
	require.Equal(t, "unauthorized", r.errBody(t).Code)
	require.Contains(t, r.Header.Get("WWW-Authenticate"), "Bearer")
	r = ts.do(t, http.MethodGet, "/api/v1/runs", nil, "Authorization", "Bearer s3cret-on")
	require.Equal(t, http.StatusUnauthorized, r.StatusCode)
	require.NotContains(t, string(r.body), "s3cret")
	r = ts.do(t, http.MethodGet, "/api/v1/runs", nil, "Authorization", "Basic czNjcmV0LW9uZQ==")
	require.Equal(t, http.StatusUnauthorized, r.StatusCode)
	for _, tok := range []string{"s3cret-one", "s3cret-two"} {
		r = ts.do(t, http.MethodGet, "/api/v1/runs", nil, "Authorization", "Bearer "+tok)
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
	}
	// Probes and the document need no token.
	for _, p := range []string{"/healthz", "/readyz", "/api/openapi.json"} {
		require.Equal(t, http.StatusOK, ts.do(t, http.MethodGet, p, nil).StatusCode, p)
	}
}

func TestLimits(t *testing.T) {
	ts := startServer(t, options{cfg: server.Config{MaxBodyBytes: 4096, MaxWorkflowBytes: 1024, StartRate: 0.001, StartBurst: 2,
		Tokens: []string{"a", "b"}}})
	big := greetSrc + "# " + strings.Repeat("x", 2000) + "\n"
	r := ts.do(t, http.MethodPost, "/api/v1/validate", src(big))
	require.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode, "%s", r.body)
	require.Equal(t, "too_large", r.errBody(t).Code)
	huge := greetSrc + "# " + strings.Repeat("x", 5000) + "\n"
	r = ts.do(t, http.MethodPost, "/api/v1/validate", src(huge))
	require.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode, "%s", r.body)

	// Two starts, then the third waits; another token has its own bucket.
	ts.start(t, greetSrc, nil)
	ts.start(t, greetSrc, nil)
	r = ts.do(t, http.MethodPost, "/api/v1/runs", map[string]any{"workflow": src(greetSrc)})
	require.Equal(t, http.StatusTooManyRequests, r.StatusCode, "%s", r.body)
	require.Equal(t, "rate_limited", r.errBody(t).Code)
	require.NotEmpty(t, r.Header.Get("Retry-After"))
	ts.token = "b"
	ts.start(t, greetSrc, nil)

	// shell is denied to workflows sent over HTTP, with its position.
	shell := "name: sh\nnodes:\n  - {id: ls, kind: Action, action: shell, params: {command: ls}}\n"
	r = ts.do(t, http.MethodPost, "/api/v1/runs", map[string]any{"workflow": src(shell)})
	require.Equal(t, http.StatusBadRequest, r.StatusCode, "%s", r.body)
	e := r.errBody(t)
	require.Len(t, e.Errors, 1)
	require.Equal(t, 3, e.Errors[0].Line)
	require.Contains(t, e.Errors[0].Message, "shell")
}

func TestShellAllowed(t *testing.T) {
	ts := startServer(t, options{denied: []string{}})
	shell := "name: sh\nnodes:\n  - {id: hi, kind: Action, action: shell, params: {command: echo hi}}\n"
	run := ts.start(t, shell, nil)
	require.Equal(t, "succeeded", string(ts.wait(t, run.ID).Status))
}

func TestBadRequests(t *testing.T) {
	ts := startServer(t, options{})
	cases := []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/api/v1/runs", `{"workflow":`, 400},
		{"POST", "/api/v1/runs", `{"workflow": {"source": "name: x"}, "inptus": {}}`, 400},
		{"POST", "/api/v1/runs", `{}`, 400},
		{"POST", "/api/v1/runs", `{"workflow": {"source": "name: x\nnodes: [{id: a, kind: Action, action: noop}]"}, "inputs": [1]}`, 400},
		{"POST", "/api/v1/runs", `{"workflow": {"source": "name: x\nnodes: [{id: a, kind: Action, action: noop}]"}} {}`, 400},
		{"POST", "/api/v1/validate", ``, 400},
		{"POST", "/api/v1/compile", `{"source": "nodes: ["}`, 400},
		{"GET", "/api/v1/runs?status=done", ``, 400},
		{"GET", "/api/v1/runs?since=yesterday", ``, 400},
		{"GET", "/api/v1/runs?before=monday", ``, 400},
		{"GET", "/api/v1/runs?limit=-1", ``, 400},
		{"GET", "/api/v1/runs?limit=5000", ``, 400},
		{"GET", "/api/v1/runs?cursor=garbage", ``, 400},
		{"GET", "/api/v1/runs?counts=maybe", ``, 400},
		{"GET", "/api/v1/runs/nope/events?after=x", ``, 400},
		{"GET", "/api/v1/runs/nope/records?at=x", ``, 400},
		{"GET", "/api/v1/runs/nope/logs", ``, 404},
		{"POST", "/api/v1/runs/nope/cancel", `{"reason": 3}`, 400},
		{"GET", "/api/v1/actions/nope", ``, 404},
		{"GET", "/api/v1/nothing", ``, 404},
		{"DELETE", "/api/v1/runs", ``, 405},
		{"POST", "/api/v1/schedules", `{"name": "x", "cron": "* * * * *", "workflow": {"source": "name: x\nnodes: [{id: a, kind: Action, action: noop}]"}}`, 501},
	}
	for _, c := range cases {
		r := ts.do(t, c.method, c.path, c.body)
		require.Equal(t, c.status, r.StatusCode, "%s %s %s: %s", c.method, c.path, c.body, r.body)
		r.errBody(t)
	}
	r := ts.do(t, http.MethodPost, "/api/v1/validate", src("name: x\nnodes:\n  - {id: a, kind: Action, action: nope}\n  - {id: a, kind: Action, action: noop}\n"))
	require.Equal(t, http.StatusOK, r.StatusCode)
	var v server.Validation
	r.decode(t, &v)
	require.False(t, v.Valid)
	require.GreaterOrEqual(t, len(v.Errors), 2, "every problem at once")
	require.Equal(t, "flow.yaml", v.Errors[0].File)
	require.Positive(t, v.Errors[0].Line)
	r = ts.do(t, http.MethodPost, "/api/v1/compile", src(greetSrc))
	require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
	var acts struct {
		Actions []server.Action `json:"actions"`
	}
	ts.do(t, http.MethodGet, "/api/v1/actions", nil).decode(t, &acts)
	require.NotEmpty(t, acts.Actions)
	require.Equal(t, http.StatusOK, ts.do(t, http.MethodGet, "/api/v1/actions/log", nil).StatusCode)
	require.Equal(t, http.StatusOK, ts.do(t, http.MethodGet, "/api/v1/schema", nil).StatusCode)
}

func TestSchedules(t *testing.T) {
	ts := startServer(t, options{})
	m, err := schedule.New(ts.svc, schedule.Options{})
	require.NoError(t, err)
	ts = startServer(t, options{cfg: server.Config{Schedules: m}, st: ts.svc.Store()})
	spec := map[string]any{"name": "nightly", "cron": "30 2 * * *", "time_zone": "Europe/Paris", "workflow": src(greetSrc),
		"inputs": map[string]any{"who": "night"}, "overlap": "cancel", "catch_up": "none"}
	r := ts.do(t, http.MethodPost, "/api/v1/schedules", spec)
	require.Equal(t, http.StatusCreated, r.StatusCode, "%s", r.body)
	var info schedule.Info
	r.decode(t, &info)
	require.Equal(t, "greet", info.Workflow)
	require.NotNil(t, info.Next)
	require.Equal(t, http.StatusOK, ts.do(t, http.MethodGet, "/api/v1/schedules", nil).StatusCode)
	var paused schedule.Info
	ts.do(t, http.MethodPost, "/api/v1/schedules/nightly/pause", nil).decode(t, &paused)
	require.True(t, paused.Paused)
	require.Nil(t, paused.Next)
	ts.do(t, http.MethodPost, "/api/v1/schedules/nightly/resume", nil).decode(t, &info)
	require.False(t, info.Paused)
	spec["cron"] = "at dawn"
	r = ts.do(t, http.MethodPost, "/api/v1/schedules", spec)
	require.Equal(t, http.StatusBadRequest, r.StatusCode, "%s", r.body)
	require.Equal(t, http.StatusNoContent, ts.do(t, http.MethodDelete, "/api/v1/schedules/nightly", nil).StatusCode)
	require.Equal(t, http.StatusNotFound, ts.do(t, http.MethodGet, "/api/v1/schedules/nightly", nil).StatusCode)
}

// A shutting-down server ends the event streams it serves, which would
// otherwise last as long as their runs, and refuses new ones.
func TestCloseStreams(t *testing.T) {
	ts := startServer(t, options{})
	run := ts.start(t, "name: long\nnodes:\n  - {id: nap, kind: Action, action: sleep, params: {duration: 1m}}\n", nil)
	got := make(chan int, 1)
	go func() {
		n := 0
		readSSE(t, ts, "/api/v1/runs/"+run.ID+"/events", "", func(sseMsg) bool {
			n++
			if n == 1 {
				ts.srv.CloseStreams()
			}
			return true
		})
		got <- n
	}()
	select {
	case n := <-got:
		require.Positive(t, n)
	case <-time.After(20 * time.Second):
		t.Fatal("the stream did not end")
	}
	r := ts.do(t, http.MethodGet, "/api/v1/runs/"+run.ID+"/events", nil, "Accept", "text/event-stream")
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode)
	_, err := ts.svc.Cancel(t.Context(), run.ID, "test over")
	require.NoError(t, err)
}

// A server whose store stops answering is not ready; it is still alive.
func TestReadyz(t *testing.T) {
	rs := redistest.Start(t)
	st, err := store.Open(t.Context(), rs.URL(), store.Options{})
	require.NoError(t, err)
	ts := startServer(t, options{st: st})
	require.Equal(t, http.StatusOK, ts.do(t, http.MethodGet, "/readyz", nil).StatusCode)
	rs.Stop()
	r := ts.do(t, http.MethodGet, "/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode, "%s", r.body)
	require.Equal(t, "unavailable", r.errBody(t).Code)
	require.NotContains(t, string(r.body), "127.0.0.1", "no address in the answer")
	require.Equal(t, http.StatusOK, ts.do(t, http.MethodGet, "/healthz", nil).StatusCode)
}
