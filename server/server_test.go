package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/api"
	"github.com/skript-dev/skript/server"
	"github.com/skript-dev/skript/store"
	_ "github.com/skript-dev/skript/store/redis" // registers redis:// with store.Open
	"github.com/skript-dev/skript/store/redis/redistest"
)

const greetSrc = `name: greet
version: "2"
inputs:
  who: {type: string, default: world}
nodes:
  - {id: hello, kind: Action, action: log, params: {msg: "hello ${{ input.who }}"}}
  - {id: shout, kind: Action, action: set, params: {v: "${{ input.who }}"}}
`

const failSrc = `name: broken
nodes:
  - {id: first, kind: Action, action: log, params: {msg: "first"}}
  - {id: boom, kind: Action, action: fail, params: {message: "no luck"}}
`

const slowSrc = `name: slow
nodes:
  - {id: a, kind: Action, action: log, params: {msg: "one"}}
  - {id: nap, kind: Action, action: sleep, params: {duration: 300ms}}
  - {id: b, kind: Action, action: log, params: {msg: "two"}}
  - {id: nap2, kind: Action, action: sleep, params: {duration: 300ms}}
  - {id: c, kind: Action, action: log, params: {msg: "three"}}
`

// Every route the server answers is in the OpenAPI document, and every
// operation of the document is a route: the two cannot drift.
func TestRoutesMatchDocument(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(api.OpenAPI, &doc))
	var documented []string
	for path, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" && m != "summary" && m != "description" {
				documented = append(documented, strings.ToUpper(m)+" "+path)
			}
		}
	}
	var served []string
	for _, r := range server.New(server.Config{}).Routes() {
		served = append(served, r.Method+" "+r.Path)
	}
	slices.Sort(documented)
	slices.Sort(served)
	require.Equal(t, documented, served)
	// The document itself is valid OpenAPI 3.1.
	ok, errs := openAPI(t).ValidateDocument()
	require.True(t, ok, "%v", errs)
}

func TestAPI(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		for _, tc := range apiTests {
			t.Run(tc.name, func(t *testing.T) { tc.fn(t, startServer(t, options{})) })
		}
	})
	t.Run("redis", func(t *testing.T) {
		url := redistest.Start(t).URL()
		for _, tc := range apiTests {
			t.Run(tc.name, func(t *testing.T) {
				st, err := store.Open(t.Context(), url, store.Options{})
				require.NoError(t, err)
				tc.fn(t, startServer(t, options{st: st}))
			})
		}
	})
}

var apiTests = []struct {
	name string
	fn   func(t *testing.T, ts *testServer)
}{
	{"Runs", testRuns},
	{"IdempotencyKey", testIdempotencyKey},
	{"RetryFromNode", testRetryFromNode},
	{"Cancel", testCancel},
	{"EventsResumeWithLastEventID", testEventsResume},
	{"LogsStream", testLogsStream},
}

func testRuns(t *testing.T, ts *testServer) {
	run := ts.start(t, greetSrc, map[string]any{"who": "ann"})
	require.Equal(t, "greet", run.Workflow)
	d := ts.wait(t, run.ID)
	require.Equal(t, store.Succeeded, d.Status)
	require.Equal(t, "ann", d.Nodes["shout"].Output.(map[string]any)["v"])
	require.Equal(t, map[string]any{"who": "ann"}, d.Inputs)

	var list struct {
		Runs   []map[string]any `json:"runs"`
		Counts map[string]int   `json:"counts"`
	}
	ts.do(t, http.MethodGet, "/api/v1/runs?workflow=greet&status=succeeded&since=1h&counts=true&limit=10", nil).decode(t, &list)
	require.NotEmpty(t, list.Runs)
	require.Equal(t, run.ID, list.Runs[0]["run_id"])
	require.Positive(t, list.Counts["succeeded"])

	var logs server.EventPage
	ts.do(t, http.MethodGet, "/api/v1/runs/"+run.ID+"/logs", nil).decode(t, &logs)
	require.Len(t, logs.Events, 1)
	require.Equal(t, "hello ann", logs.Events[0].Message)

	var evs server.EventPage
	ts.do(t, http.MethodGet, "/api/v1/runs/"+run.ID+"/events?limit=2", nil).decode(t, &evs)
	require.Len(t, evs.Events, 2)
	require.Equal(t, store.EventRunCreated, evs.Events[0].Type)
	var rest server.EventPage
	ts.do(t, http.MethodGet, "/api/v1/runs/"+run.ID+"/events?after=2", nil).decode(t, &rest)
	require.Equal(t, int64(3), rest.Events[0].Seq)

	r := ts.do(t, http.MethodGet, "/api/v1/runs/"+run.ID+"/records?at=1", nil)
	require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)

	r = ts.do(t, http.MethodGet, "/api/v1/runs/no-such-run", nil)
	require.Equal(t, http.StatusNotFound, r.StatusCode)
	require.Equal(t, "not_found", r.errBody(t).Code)
	r = ts.do(t, http.MethodGet, "/api/v1/runs/no-such-run/events", nil, "Accept", "text/event-stream")
	require.Equal(t, http.StatusNotFound, r.StatusCode)
}

func testIdempotencyKey(t *testing.T, ts *testServer) {
	first := ts.do(t, http.MethodPost, "/api/v1/runs", map[string]any{"workflow": src(greetSrc)}, "Idempotency-Key", "order-17")
	require.Equal(t, http.StatusCreated, first.StatusCode, "%s", first.body)
	again := ts.do(t, http.MethodPost, "/api/v1/runs", map[string]any{"workflow": src(greetSrc), "idempotency_key": "order-17"})
	require.Equal(t, http.StatusOK, again.StatusCode, "%s", again.body)
	var a, b server.Run
	first.decode(t, &a)
	again.decode(t, &b)
	require.Equal(t, a.ID, b.ID)
	require.NotContains(t, string(first.body), "order-17", "a key may be a secret")

	other := ts.do(t, http.MethodPost, "/api/v1/runs", map[string]any{"workflow": src(failSrc)}, "Idempotency-Key", "order-17")
	require.Equal(t, http.StatusConflict, other.StatusCode, "%s", other.body)
	require.Equal(t, "conflict", other.errBody(t).Code)
}

func testRetryFromNode(t *testing.T, ts *testServer) {
	run := ts.start(t, failSrc, nil)
	d := ts.wait(t, run.ID)
	require.Equal(t, store.Failed, d.Status)
	require.Equal(t, "boom", d.Error.Node)

	r := ts.do(t, http.MethodPost, "/api/v1/runs/"+run.ID+"/retry", map[string]any{"from": "frist"})
	require.Equal(t, http.StatusBadRequest, r.StatusCode, "%s", r.body)
	require.Contains(t, r.errBody(t).Message, "first", "the closest node is suggested")

	r = ts.do(t, http.MethodPost, "/api/v1/runs/"+run.ID+"/retry", map[string]any{"from": "first"})
	require.Equal(t, http.StatusCreated, r.StatusCode, "%s", r.body)
	var retry server.Run
	r.decode(t, &retry)
	require.Equal(t, run.ID, retry.RetryOf)
	require.Equal(t, store.Failed, ts.wait(t, retry.ID).Status)

	r = ts.do(t, http.MethodPost, "/api/v1/runs/no-such-run/retry", nil)
	require.Equal(t, http.StatusNotFound, r.StatusCode, "%s", r.body)
}

func testCancel(t *testing.T, ts *testServer) {
	run := ts.start(t, `name: long
nodes:
  - {id: nap, kind: Action, action: sleep, params: {duration: 1m}}
`, nil)
	r := ts.do(t, http.MethodPost, "/api/v1/runs/"+run.ID+"/cancel", map[string]any{"reason": "enough"})
	require.Equal(t, http.StatusOK, r.StatusCode, "%s", r.body)
	var c struct {
		Run       server.Run `json:"run"`
		Cancelled bool       `json:"cancelled"`
	}
	r.decode(t, &c)
	require.True(t, c.Cancelled)
	require.Equal(t, store.Cancelled, c.Run.Status)
	// Again: the run has ended, nothing changes.
	ts.do(t, http.MethodPost, "/api/v1/runs/"+run.ID+"/cancel", nil).decode(t, &c)
	require.False(t, c.Cancelled)
}

// sseMsg is one Server-Sent Events message.
type sseMsg struct {
	id, event, data string
}

// readSSE reads messages until fn says stop or the stream ends.
func readSSE(t *testing.T, ts *testServer, path, lastID string, fn func(sseMsg) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	sc := bufio.NewScanner(resp.Body)
	var m sseMsg
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if m.event != "" && !fn(m) {
				return
			}
			m = sseMsg{}
		case strings.HasPrefix(line, "id: "):
			m.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			m.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			m.data = line[6:]
		}
	}
}

// A client that loses the stream and reconnects with Last-Event-ID gets
// every event once, in order, and then the end.
func testEventsResume(t *testing.T, ts *testServer) {
	run := ts.start(t, slowSrc, nil)
	path := "/api/v1/runs/" + run.ID + "/events"
	var seqs []int64
	last := ""
	readSSE(t, ts, path, "", func(m sseMsg) bool {
		require.Equal(t, "event", m.event)
		var ev store.Event
		require.NoError(t, json.Unmarshal([]byte(m.data), &ev))
		seqs = append(seqs, ev.Seq)
		last = m.id
		return len(seqs) < 3
	})
	require.Len(t, seqs, 3)
	ended := false
	readSSE(t, ts, path, last, func(m sseMsg) bool {
		if m.event == "end" {
			ended = true
			return false
		}
		var ev store.Event
		require.NoError(t, json.Unmarshal([]byte(m.data), &ev))
		seqs = append(seqs, ev.Seq)
		return true
	})
	require.True(t, ended)
	for i, s := range seqs {
		require.Equal(t, int64(i+1), s, "every event once, in order: %v", seqs)
	}
	var all server.EventPage
	ts.do(t, http.MethodGet, path, nil).decode(t, &all)
	require.Len(t, seqs, len(all.Events))
	// Resuming after the last event of an ended run ends at once.
	n := 0
	readSSE(t, ts, path, last, func(m sseMsg) bool { n++; return m.event != "end" })
	require.Positive(t, n)
}

func testLogsStream(t *testing.T, ts *testServer) {
	run := ts.start(t, slowSrc, nil)
	var msgs []string
	readSSE(t, ts, "/api/v1/runs/"+run.ID+"/logs", "", func(m sseMsg) bool {
		if m.event == "end" {
			return false
		}
		var ev store.Event
		require.NoError(t, json.Unmarshal([]byte(m.data), &ev))
		msgs = append(msgs, ev.Message)
		return true
	})
	require.Equal(t, []string{"one", "two", "three"}, msgs)
}
