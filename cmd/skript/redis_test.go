package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
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
