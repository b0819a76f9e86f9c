package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store/redis/redistest"
)

// worker is a `skript worker` child process.
type worker struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	exited chan error
}

func startWorker(t *testing.T, url string, args ...string) *worker {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"worker", "--store", url}, args...)...)
	w := &worker{cmd: cmd, stderr: &bytes.Buffer{}, exited: make(chan error, 1)}
	cmd.Stderr = w.stderr
	require.NoError(t, cmd.Start())
	go func() { w.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-w.exited
	})
	return w
}

// fanout writes a workflow of n tasks that each sleep d and record their item.
func fanout(t *testing.T, n int, d string) string {
	return writeFlow(t, `name: fanout
nodes:
  - id: fan
    kind: Loop
    for_each: "0..`+strconv.Itoa(n-1)+`"
    concurrency: 0
    body:
      - {id: nap, kind: Action, action: sleep, params: {duration: `+d+`}}
      - {id: w, kind: Action, action: set, params: {v: "${{ item }}"}}
output: "${{ {count: len(nodes.fan.output), sum: sum(map(nodes.fan.output, #.v)), distinct: len(uniq(map(nodes.fan.output, #.v)))} }}"
`)
}

type statusOut struct {
	Status string         `json:"status"`
	Output map[string]any `json:"output"`
	Error  any            `json:"error"`
}

func waitStatus(t *testing.T, url, id string) statusOut {
	t.Helper()
	r := skript(t, "status", id, "--store", url, "--wait", "--output", "json")
	var st statusOut
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &st), "stdout %q stderr %q", r.stdout, r.stderr)
	return st
}

// A worker killed with SIGKILL in the middle of a 3000-task run loses its
// leases; another worker takes them over after the lease and the run
// succeeds with every output recorded once.
func TestWorkerKilledMidRun(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	a := startWorker(t, url, "--lease", "2s", "--concurrency", "64")
	startWorker(t, url, "--lease", "2s", "--concurrency", "64")
	const n = 3000
	r := skript(t, "submit", fanout(t, n, "20ms"), "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.TrimSpace(r.stdout)
	time.Sleep(300 * time.Millisecond)
	killed := time.Now()
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGKILL))
	st := waitStatus(t, url, id)
	t.Logf("run ended %v after the kill", time.Since(killed).Round(time.Millisecond))
	require.Equal(t, "succeeded", st.Status, "%v", st.Error)
	require.EqualValues(t, n, st.Output["count"])
	require.EqualValues(t, n, st.Output["distinct"])
	require.EqualValues(t, n*(n-1)/2, st.Output["sum"])
}

// SIGTERM: a worker stops leasing, finishes or hands back what it holds,
// and exits 0; the run finishes on another worker.
func TestWorkerSIGTERMHandsBack(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	a := startWorker(t, url, "--grace", "200ms", "--concurrency", "16")
	r := skript(t, "submit", fanout(t, 200, "100ms"), "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.TrimSpace(r.stdout)
	time.Sleep(400 * time.Millisecond)
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-a.exited:
		require.NoError(t, err, "exit 0 after SIGTERM\n%s", a.stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatal("worker did not exit after SIGTERM")
	}
	a.exited <- nil // for the cleanup
	startWorker(t, url, "--concurrency", "64")
	st := waitStatus(t, url, id)
	require.Equal(t, "succeeded", st.Status, "%v", st.Error)
	require.EqualValues(t, 200, st.Output["distinct"])
}

// Redis restarted (appendonly on) in the middle of a run: workers
// reconnect with backoff and the run finishes.
func TestRedisRestartMidRun(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	url := srv.URL()
	startWorker(t, url, "--concurrency", "32")
	r := skript(t, "submit", fanout(t, 300, "50ms"), "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.TrimSpace(r.stdout)
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, srv.Restart())
	st := waitStatus(t, url, id)
	require.Equal(t, "succeeded", st.Status, "%v", st.Error)
	require.EqualValues(t, 300, st.Output["distinct"])
}

// `skript run --store` with in-process workers, and `--workers 0` leaving the
// work to a separate worker process.
func TestRunOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	r := skript(t, "run", fanout(t, 50, "1ms"), "--store", url, "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `"succeeded"`)

	startWorker(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", fanout(t, 50, "1ms"), "--store", url, "--workers", "0", "--output", "json")
	cmd.Env = append(os.Environ(), "SKRIPT_STORE=")
	out, err := cmd.Output()
	require.NoError(t, err)
	require.Contains(t, string(out), `"succeeded"`)
}

// `skript status` of a run whose task is running shows its step running,
// and the step fused before it done (the run has no other record yet).
func TestStatusShowsTheRunningStep(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	startWorker(t, url)
	r := skript(t, "submit", writeFlow(t, `name: t9
nodes:
  - {id: a, kind: Action, action: noop}
  - {id: slow, kind: Action, action: sleep, params: {duration: 2s}}
`), "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.TrimSpace(r.stdout)
	type node struct {
		Status   string  `json:"status"`
		Attempts int     `json:"attempts"`
		Started  *string `json:"started_at"`
		Finished *string `json:"finished_at"`
	}
	var st struct {
		Status string          `json:"status"`
		Nodes  map[string]node `json:"nodes"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = skript(t, "status", id, "--store", url, "--output", "json")
		require.Equal(t, 0, r.code, r.stderr)
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &st), r.stdout)
		if st.Nodes["slow"].Status != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, "running", st.Status)
	require.Equal(t, "running", st.Nodes["slow"].Status, "%+v", st.Nodes)
	require.Equal(t, 1, st.Nodes["slow"].Attempts)
	require.NotNil(t, st.Nodes["slow"].Started)
	require.Nil(t, st.Nodes["slow"].Finished)
	require.Equal(t, "succeeded", st.Nodes["a"].Status)
	require.Equal(t, "succeeded", waitStatus(t, url, id).Status)
}

// runPoisoned submits flow, whose first action kills the worker running
// it, and keeps one worker running (a new one each time the last dies)
// until the run ends. It returns the run's status and how many workers died.
func runPoisoned(t *testing.T, url, flow string, workerArgs ...string) (statusOut, int) {
	t.Helper()
	r := skript(t, "submit", flow, "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.TrimSpace(r.stdout)
	type ended struct {
		out []byte
		err error
	}
	done := make(chan ended, 1)
	go func() {
		out, err := exec.Command(bin, "status", id, "--store", url, "--wait", "--output", "json").Output()
		done <- ended{out, err}
	}()
	deaths := 0
	for {
		w := startWorker(t, url, workerArgs...)
		select {
		case err := <-w.exited:
			w.exited <- err // for the cleanup
			require.ErrorContains(t, err, "killed", "the worker died of its task\n%s", w.stderr.String())
			deaths++
			require.Less(t, deaths, 10, "the poison task keeps killing workers")
			continue
		case e := <-done:
			if ee := (*exec.ExitError)(nil); !errors.As(e.err, &ee) || ee.ExitCode() != 1 {
				require.NoError(t, e.err, "exit 0, or 1 for a failed run")
			}
			var st statusOut
			require.NoError(t, json.Unmarshal(e.out, &st), "%s", e.out)
			// Stop the survivor before reading what it logged.
			require.NoError(t, w.cmd.Process.Kill())
			w.exited <- <-w.exited
			require.Contains(t, w.stderr.String(), "task abandoned")
			return st, deaths
		case <-time.After(60 * time.Second):
			t.Fatal("the run did not end")
		}
	}
}

// A task that kills every worker running it (here, a shell action that
// SIGKILLs its worker) is given up after --max-deliveries workers died,
// and its node fails through its own failure handling.
func TestPoisonTaskStopsAfterMaxDeliveries(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	args := []string{"--lease", "1s", "--max-deliveries", "2", "--concurrency", "4"}
	const msg = "task abandoned after 2 deliveries: the workers running it stopped before finishing (crash, kill or lost lease)"

	st, deaths := runPoisoned(t, url, writeFlow(t, `name: poison
nodes:
  - {id: poison, kind: Action, action: shell, params: {command: "kill -9 $PPID"}}
`), args...)
	require.Equal(t, "failed", st.Status)
	require.Equal(t, map[string]any{"node": "poison", "type": "abandoned", "message": msg}, st.Error)
	require.Equal(t, 2, deaths)

	st, deaths = runPoisoned(t, url, writeFlow(t, `name: caught
nodes:
  - id: poison
    kind: Action
    action: shell
    params: {command: "kill -9 $PPID"}
    catch:
      - {id: handle, kind: Action, action: set, params: {caught: "${{ error.message }}"}}
output: "${{ nodes.poison.output }}"
`), args...)
	require.Equal(t, "succeeded", st.Status, "%v", st.Error)
	require.Equal(t, map[string]any{"caught": msg}, st.Output)
	require.Equal(t, 2, deaths)
}

// A fused task whose last step kills its worker stops after
// --max-deliveries deaths too, not (steps × max-deliveries): the running
// record of the step that was running tells which step to give up.
func TestPoisonLastStepOfFusedTaskStopsAfterMaxDeliveries(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	args := []string{"--lease", "1s", "--max-deliveries", "2", "--concurrency", "4"}
	const msg = "task abandoned after 2 deliveries: the workers running it stopped before finishing (crash, kill or lost lease)"

	st, deaths := runPoisoned(t, url, writeFlow(t, `name: fused
nodes:
  - {id: one, kind: Action, action: shell, params: {command: "echo one"}}
  - {id: two, kind: Action, action: shell, params: {command: "echo two"}}
  - {id: poison, kind: Action, action: shell, params: {command: "kill -9 $PPID"}}
`), args...)
	require.Equal(t, "failed", st.Status)
	require.Equal(t, map[string]any{"node": "poison", "type": "abandoned", "message": msg}, st.Error)
	require.Equal(t, 2, deaths)
}

// TestStatusShowsVersion: `skript status` shows the version of the
// workflow a run was submitted with, as JSON and as text.
func TestStatusShowsVersion(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	startWorker(t, url)
	flow := writeFlow(t, "name: v\nversion: \"2024.1\"\nnodes:\n  - {id: a, kind: Action, action: noop}\n")
	r := skript(t, "submit", flow, "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.TrimSpace(r.stdout)
	r = skript(t, "status", id, "--store", url, "--wait", "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res), r.stdout)
	require.Equal(t, "2024.1", res["version"])
	r = skript(t, "status", id, "--store", url)
	require.Contains(t, r.stdout, "(v version 2024.1) succeeded")
}

// numbersFlow needs integers to stay integers across task boundaries (the
// sleep ends a task, so b and the loop read a's output and the inputs back
// from the store): `%` is defined on integers only.
const numbersFlow = `name: numbers
inputs:
  n: {type: integer, default: 7}
  id: {type: integer}
nodes:
  - {id: a, kind: Action, action: set, params: {x: 3, big: 12345678901234567, half: 1.5}}
  - {id: nap, kind: Action, action: sleep, params: {duration: 1ms}}
  - {id: b, kind: Action, action: set, params: {m: "${{ nodes.a.output.x % 2 }}", ti: "${{ type(input.n) }}", tb: "${{ type(nodes.a.output.big) }}", th: "${{ type(nodes.a.output.half) }}", big: "${{ nodes.a.output.big }}", id: "${{ input.id }}"}}
  - id: every
    kind: Loop
    for_each: "0..5"
    body:
      - id: pick
        kind: If
        condition: "item % 3 == 0"
        then:
          - {id: hit, kind: Action, action: set, params: {v: "${{ item }}"}}
output: "${{ {b: nodes.b.output, hits: filter(nodes.every.output, # != nil)} }}"
`

// runNumbers runs numbersFlow on store and returns its output, with numbers
// decoded exactly.
func runNumbers(t *testing.T, store string, args ...string) map[string]any {
	t.Helper()
	r := skript(t, append([]string{"run", writeFlow(t, numbersFlow), "--store", store, "--output", "json"}, args...)...)
	require.Equal(t, 0, r.code, "on %s: %s\n%s", store, r.stderr, r.stdout)
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.UseNumber()
	var res struct {
		Output map[string]any `json:"output"`
	}
	require.NoError(t, dec.Decode(&res), r.stdout)
	return res.Output
}

// A workflow reads the same numbers back on Redis as in memory: an integer
// stays an integer (a float64 would make `x % 2` fail), with all its
// digits, and other numbers stay floats.
func TestNumbersOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	want := map[string]any{
		"b": map[string]any{"m": json.Number("1"), "ti": "int", "tb": "int", "th": "float",
			"big": json.Number("12345678901234567"), "id": json.Number("12345678901234567")},
		"hits": []any{map[string]any{"v": json.Number("0")}, map[string]any{"v": json.Number("3")}},
	}
	for _, st := range []string{"memory", srv.URL()} {
		require.Equal(t, want, runNumbers(t, st, "--input", "id=12345678901234567"), "on %s", st)
	}
	// Integer inputs given in a file keep their digits too.
	in := filepath.Join(t.TempDir(), "in.json")
	require.NoError(t, os.WriteFile(in, []byte(`{"id": 12345678901234567, "n": 5}`), 0o600))
	require.Equal(t, want, runNumbers(t, srv.URL(), "--input-file", in))
}

// `skript cancel` ends a run that another process submitted and a worker
// runs, says so, and says how a run that had already ended ended.
func TestCancel(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	startWorker(t, url)
	r := skript(t, "submit", writeFlow(t, `name: long
nodes:
  - {id: nap, kind: Action, action: sleep, params: {duration: 60s}}
`), "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.TrimSpace(r.stdout)
	require.Eventually(t, func() bool {
		r := skript(t, "status", id, "--store", url, "--output", "json")
		return strings.Contains(r.stdout, `"nap": {`) && strings.Contains(r.stdout, `"running"`)
	}, 10*time.Second, 50*time.Millisecond)

	r = skript(t, "cancel", id, "--store", url, "--reason", "operator said so")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "run "+id+" cancelled\n", r.stdout)
	st := waitStatus(t, url, id)
	require.Equal(t, "cancelled", st.Status)
	require.Equal(t, "operator said so", st.Error.(map[string]any)["message"])

	done := skript(t, "submit", writeFlow(t, `name: quick
nodes:
  - {id: a, kind: Action, action: noop}
`), "--store", url)
	require.Equal(t, 0, done.code, done.stderr)
	doneID := strings.TrimSpace(done.stdout)
	require.Equal(t, "succeeded", waitStatus(t, url, doneID).Status)

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"again", []string{"cancel", id, "--store", url}, 0, "run " + id + " had already ended: cancelled\n", ""},
		{"succeeded", []string{"cancel", doneID, "--store", url}, 0, "run " + doneID + " had already ended: succeeded\n", ""},
		{"unknown run", []string{"cancel", "nope", "--store", url}, 2, "", "run nope not found"},
		{"memory store", []string{"cancel", id}, 2, "", "cancel needs a shared store"},
		{"no run id", []string{"cancel", "--store", url}, 2, "", "accepts 1 arg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := skript(t, tc.args...)
			require.Equal(t, tc.code, r.code, r.stderr)
			require.Equal(t, tc.stdout, r.stdout)
			require.Contains(t, r.stderr, tc.stderr)
		})
	}
	// The cancelled run's status is unchanged by the second cancel.
	st = waitStatus(t, url, id)
	require.Equal(t, "operator said so", st.Error.(map[string]any)["message"])
}
