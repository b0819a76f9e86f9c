package main_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store/redis/redistest"
)

// lookupRedis starts a Redis and a worker on it for the commands that
// look runs up (runs, logs, history), which need the driver's journal and
// run index.
func lookupRedis(t *testing.T) string {
	t.Helper()
	srv := redistest.Start(t)
	startWorker(t, srv.URL())
	return srv.URL()
}

const chattySrc = `name: chatty
version: "3"
nodes:
  - {id: hello, kind: Action, action: log, params: {msg: "hello there"}}
  - {id: sh, kind: Action, action: shell, params: {command: "echo out-line; echo err-line >&2"}}
  - {id: bye, kind: Action, action: log, params: {msg: "bye now", level: warn}}
`

const brokenSrc = `name: broken
nodes:
  - {id: first, kind: Action, action: noop}
  - {id: boom, kind: Action, action: fail, params: {message: "no luck"}}
`

// submitWaited submits a workflow and waits for its run to end.
func submitWaited(t *testing.T, url, src string, args ...string) string {
	t.Helper()
	r := skript(t, append([]string{"submit", writeFlow(t, src), "--store", url}, args...)...)
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.TrimSpace(r.stdout)
	waitStatus(t, url, id)
	return id
}

type runsOut struct {
	Runs []struct {
		ID         string  `json:"run_id"`
		Workflow   string  `json:"workflow"`
		Version    string  `json:"version"`
		Status     string  `json:"status"`
		Created    string  `json:"created_at"`
		Duration   float64 `json:"duration_seconds"`
		FailedNode string  `json:"failed_node"`
	} `json:"runs"`
	Next   string         `json:"next"`
	Counts map[string]int `json:"counts"`
}

func TestRunsListsNewestFirst(t *testing.T) {
	url := lookupRedis(t)
	a := submitWaited(t, url, chattySrc)
	b := submitWaited(t, url, chattySrc)
	bad := submitWaited(t, url, brokenSrc)

	r := skript(t, "runs", "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Regexp(t, `^ID\s+WORKFLOW\s+VERSION\s+STATUS\s+STARTED\s+DURATION\s+FAILED NODE$`, lines[0])
	require.Regexp(t, "^"+bad+`\s+broken\s+-\s+failed\s+\S+ \S+\s+\S+\s+boom$`, lines[1])
	require.Regexp(t, "^"+b+`\s+chatty\s+3\s+succeeded`, lines[2])
	require.Regexp(t, "^"+a+`\s+chatty\s+3\s+succeeded`, lines[3])
	require.Equal(t, "3 runs: 2 succeeded, 1 failed", lines[4])

	var out runsOut
	r = skript(t, "runs", "--store", url, "--output", "json", "--workflow", "chatty", "--limit", "1")
	require.Equal(t, 0, r.code, r.stderr)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.Len(t, out.Runs, 1)
	require.Equal(t, b, out.Runs[0].ID)
	require.NotEmpty(t, out.Next)
	require.Equal(t, map[string]int{"succeeded": 2}, out.Counts)
	_, err := time.Parse(time.RFC3339Nano, out.Runs[0].Created)
	require.NoError(t, err)

	r = skript(t, "runs", "--store", url, "--output", "json", "--workflow", "chatty", "--limit", "1", "--cursor", out.Next)
	require.Equal(t, 0, r.code, r.stderr)
	out = runsOut{}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.Len(t, out.Runs, 1)
	require.Equal(t, a, out.Runs[0].ID)
	require.Empty(t, out.Next)

	r = skript(t, "runs", "--store", url, "--status", "failed", "--since", "1h", "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	out = runsOut{}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.Len(t, out.Runs, 1)
	require.Equal(t, "boom", out.Runs[0].FailedNode)

	for _, args := range [][]string{{"--status", "done"}, {"--since", "-1h"}, {"--since", "soon"}, {"--limit", "0"}, {"--output", "yaml"}} {
		r := skript(t, append([]string{"runs", "--store", url}, args...)...)
		require.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
		require.Contains(t, r.stderr, args[0], args)
	}
}

func TestLogsPrintsAndFollows(t *testing.T) {
	url := lookupRedis(t)
	id := submitWaited(t, url, chattySrc)

	r := skript(t, "logs", id, "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `(?m)INFO\s+hello\s+hello there$`, r.stdout)
	require.Regexp(t, `(?m)STDOUT\s+sh\s+out-line$`, r.stdout)
	require.Regexp(t, `(?m)STDERR\s+sh\s+err-line$`, r.stdout)
	require.Regexp(t, `(?m)WARN\s+bye\s+bye now$`, r.stdout)
	require.Less(t, strings.Index(r.stdout, "hello there"), strings.Index(r.stdout, "bye now"))

	r = skript(t, "logs", id, "--store", url, "--node", "bye", "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	var evs []map[string]any
	for sc.Scan() {
		var ev map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ev), sc.Text())
		evs = append(evs, ev)
	}
	require.Len(t, evs, 1)
	require.Equal(t, "log", evs[0]["type"])
	require.Equal(t, "bye now", evs[0]["message"])
	require.Equal(t, "warn", evs[0]["level"])

	r = skript(t, "logs", id, "--store", url, "--node", "by")
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, `did you mean "bye"?`)

	// --follow on a running run prints its lines as they come and ends
	// with the run.
	slow := writeFlow(t, `name: slow
nodes:
  - {id: a, kind: Action, action: log, params: {msg: "first"}}
  - {id: nap, kind: Action, action: sleep, params: {duration: 500ms}}
  - {id: b, kind: Action, action: log, params: {msg: "last"}}
`)
	s := skript(t, "submit", slow, "--store", url)
	require.Equal(t, 0, s.code, s.stderr)
	r = skript(t, "logs", strings.TrimSpace(s.stdout), "--store", url, "--follow")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "first")
	require.Contains(t, r.stdout, "last")
}

func TestHistoryTimelineAndTimeTravel(t *testing.T) {
	url := lookupRedis(t)
	id := submitWaited(t, url, brokenSrc)

	r := skript(t, "history", id, "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Regexp(t, `^SEQ\s+TIME\s+EVENT\s+NODE\s+DETAIL$`, lines[0])
	require.Regexp(t, `^1\s+\S+\s+run\.created\s+-\s+broken$`, lines[1])
	require.Regexp(t, `run\.ended\s+-\s+failed: in boom: no luck$`, lines[len(lines)-1])
	require.Contains(t, r.stdout, "step.failed")

	var hist struct {
		RunID  string `json:"run_id"`
		Events []struct {
			Seq  int64  `json:"seq"`
			Type string `json:"type"`
			Node string `json:"node"`
		} `json:"events"`
	}
	r = skript(t, "history", id, "--store", url, "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &hist), r.stdout)
	require.Equal(t, id, hist.RunID)
	require.Equal(t, len(lines)-1, len(hist.Events))
	firstDone := int64(0)
	for _, ev := range hist.Events {
		if ev.Type == "step.succeeded" && ev.Node == "first" {
			firstDone = ev.Seq
		}
	}
	require.NotZero(t, firstDone)

	// Right after `first` succeeded, boom had not failed yet.
	r = skript(t, "history", id, "--store", url, "--at", itoa(firstDone))
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "right after event "+itoa(firstDone)+" of ")
	require.Regexp(t, `(?m)^first\s+succeeded`, r.stdout)
	require.NotRegexp(t, `(?m)^boom\s+failed`, r.stdout)

	var snap struct {
		At      int64 `json:"at"`
		Records []struct {
			Key    string `json:"key"`
			Status string `json:"status"`
		} `json:"records"`
	}
	last := hist.Events[len(hist.Events)-1].Seq
	r = skript(t, "history", id, "--store", url, "--at", itoa(last), "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &snap), r.stdout)
	require.Equal(t, last, snap.At)
	status := map[string]string{}
	for _, rec := range snap.Records {
		status[rec.Key] = rec.Status
	}
	require.Equal(t, "failed", status["boom"])
	require.Equal(t, "succeeded", status["first"])

	for _, at := range []string{"0", itoa(last + 1)} {
		r = skript(t, "history", id, "--store", url, "--at", at)
		require.Equal(t, 2, r.code, r.stderr)
	}
}

// The same idempotency key gives the same run; with another workflow it
// exits 2.
func TestSubmitIdempotencyKey(t *testing.T) {
	url := lookupRedis(t)
	flow := writeFlow(t, chattySrc)
	first := skript(t, "submit", flow, "--store", url, "--idempotency-key", "order-17")
	require.Equal(t, 0, first.code, first.stderr)
	again := skript(t, "submit", flow, "--store", url, "--idempotency-key", "order-17")
	require.Equal(t, 0, again.code, again.stderr)
	require.Equal(t, first.stdout, again.stdout)
	require.Contains(t, again.stderr, "nothing new started")

	other := skript(t, "submit", writeFlow(t, brokenSrc), "--store", url, "--idempotency-key", "order-17")
	require.Equal(t, 2, other.code, other.stderr)
	require.Contains(t, other.stderr, strings.TrimSpace(first.stdout))
	require.NotContains(t, other.stderr, "order-17")

	run := skript(t, "run", flow, "--store", url, "--idempotency-key", "order-17", "--output", "json")
	require.Equal(t, 0, run.code, run.stderr)
	require.Contains(t, run.stdout, strings.TrimSpace(first.stdout))
}

// Commands that look up an earlier run refuse the memory store in one
// line, and an unknown run, on a shared store, exits 2.
func TestLookupsNeedASharedStore(t *testing.T) {
	for _, args := range [][]string{{"runs"}, {"logs", "x"}, {"history", "x"}, {"runs", "--store", "memory"}} {
		r := skript(t, args...)
		require.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
		require.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
		require.Contains(t, r.stderr, "the memory store keeps them only inside the process that ran them")
	}
	url := lookupRedis(t)
	for _, c := range []string{"logs", "history", "status", "cancel"} {
		r := skript(t, c, "0190aaaa-0000-7000-8000-000000000000", "--store", url)
		require.Equal(t, 2, r.code, "%s: %s", c, r.stderr)
		require.Contains(t, r.stderr, "run 0190aaaa-0000-7000-8000-000000000000 not found", c)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

const flakySrc = `name: flaky
inputs:
  dir: {type: string}
nodes:
  - {id: count, kind: Action, action: shell, params: {args: ["sh", "-c", "echo x >> \"$1\"/count", "sh", "${{ input.dir }}"]}}
  - {id: check, kind: Action, action: shell, params: {args: ["test", "-f", "${{ input.dir }}/ok"]}}
`

// skript retry: a new run linked to the failed one that keeps what
// succeeded; refusals exit 2 with a clear line.
func TestRetryFromTheFailedNode(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	startWorker(t, url)
	dir := t.TempDir()
	first := submitWaited(t, url, flakySrc, "--input", "dir="+dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ok"), nil, 0o600))

	r := skript(t, "retry", first, "--store", url, "--wait", "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	var res struct {
		RunID   string `json:"run_id"`
		Status  string `json:"status"`
		RetryOf string `json:"retry_of"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res), r.stdout)
	require.Equal(t, "succeeded", res.Status)
	require.Contains(t, r.stderr, "retries "+first)
	count, err := os.ReadFile(filepath.Join(dir, "count"))
	require.NoError(t, err)
	require.Equal(t, "x\n", string(count), "the step that succeeded is not run again")

	r = skript(t, "retry", res.RunID, "--store", url, "--from", "count")
	require.Equal(t, 0, r.code, r.stderr)
	third := strings.TrimSpace(r.stdout)
	require.Equal(t, "succeeded", waitStatus(t, url, third).Status)
	st := skript(t, "status", third, "--store", url)
	require.Equal(t, 0, st.code, st.stderr)
	require.Contains(t, st.stdout, "retry of run "+res.RunID)
	count, err = os.ReadFile(filepath.Join(dir, "count"))
	require.NoError(t, err)
	require.Equal(t, "x\nx\n", string(count), "--from runs the node again")

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"retry", "0190aaaa-0000-7000-8000-000000000000"}, "run 0190aaaa-0000-7000-8000-000000000000 not found"},
		{[]string{"retry", first, "--from", "chek"}, `did you mean "check"?`},
		{[]string{"retry", third}, "succeeded"},
		{[]string{"retry", first, "--output", "yaml"}, "--output"},
	} {
		r := skript(t, append(c.args, "--store", url)...)
		require.Equal(t, 2, r.code, "%v: %s", c.args, r.stderr)
		require.Contains(t, r.stderr, c.want, c.args)
		require.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
	}
	r = skript(t, "retry", first)
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "the memory store keeps them only inside the process that ran them")
}

// The lookup commands are in the help, and offer no flag that only tunes
// workers.
func TestLookupHelp(t *testing.T) {
	r := skript(t, "--help")
	require.Equal(t, 0, r.code, r.stderr)
	for _, c := range []string{"runs", "logs", "history", "retry"} {
		require.Regexp(t, `(?m)^\s+`+c+`\s`, r.stdout, c)
		h := skript(t, c, "--help")
		require.Equal(t, 0, h.code, h.stderr)
		require.Contains(t, h.stdout, "--store", c)
		require.Contains(t, h.stdout, "--output", c)
		require.NotContains(t, h.stdout, "--lease", c)
		require.NotContains(t, h.stdout, "--journal-max-events", c)
	}
	for _, c := range []string{"run", "submit"} {
		require.Contains(t, skript(t, c, "--help").stdout, "--idempotency-key", c)
	}
	require.Contains(t, skript(t, "worker", "--help").stdout, "--journal-max-events")
}

// runs, logs, history and retry on a Redis Cluster of three primaries.
func TestLookupsOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node Redis Cluster")
	}
	url := redistest.StartCluster(t, 3).URL
	startWorker(t, url)
	id := submitWaited(t, url, chattySrc)
	bad := submitWaited(t, url, brokenSrc)

	r := skript(t, "runs", "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, "(?m)^"+bad+`\s+broken\s+-\s+failed\s.*boom$`, r.stdout)
	require.Regexp(t, "(?m)^"+id+`\s+chatty\s+3\s+succeeded`, r.stdout)

	r = skript(t, "logs", id, "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "hello there")
	require.Contains(t, r.stdout, "out-line")

	r = skript(t, "history", bad, "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `run\.ended\s+-\s+failed: in boom: no luck\n$`, r.stdout)

	r = skript(t, "retry", bad, "--store", url, "--wait")
	require.Equal(t, 1, r.code, "the fail step fails again: %s", r.stderr)
	require.Contains(t, r.stdout, "failed")
}
