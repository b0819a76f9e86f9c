package main_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store/redis/redistest"
)

// onTerminal runs skript with stdin, stdout and stderr on a pseudo-terminal
// of 100 columns by 40 rows, the way a user at a terminal sees it, and
// returns its exit code and everything it wrote, carriage returns removed.
func onTerminal(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "SKRIPT_STORE=")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 100, Rows: 40})
	require.NoError(t, err)
	defer func() { _ = tty.Close() }()
	var out bytes.Buffer
	// Reading ends with an error (EIO on Linux) once the child has exited
	// and the terminal's other side is closed.
	_, _ = io.Copy(&out, tty)
	err = cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return code, strings.ReplaceAll(out.String(), "\r", "")
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// frames splits a live view's output into the frames it drew: each redraw
// starts by erasing the previous frame. The last one holds the final frame
// and what followed it.
func frames(out string) []string {
	var fs []string
	for _, f := range strings.Split(out, "\x1b[J") {
		fs = append(fs, ansi.ReplaceAllString(f, ""))
	}
	return fs
}

// nodeLine finds a node's line in a frame.
func nodeLine(frame, id string) (string, bool) {
	for _, l := range strings.Split(frame, "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[1] == id {
			return l, true
		}
	}
	return "", false
}

func anyFrame(fs []string, ok func(string) bool) bool {
	for _, f := range fs {
		if ok(f) {
			return true
		}
	}
	return false
}

// A run executed entirely by a separate worker process shows its nodes
// progressing on the terminal of `skript run --workers 0`, read from the
// run's records, and its last frame shows them all ended.
func TestLiveViewFollowsRemoteWorker(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	startWorker(t, url)
	flow := writeFlow(t, `name: remote
nodes:
  - {id: first, kind: Action, action: sleep, params: {duration: 500ms}}
  - id: each
    kind: Loop
    for_each: "0..2"
    body:
      - {id: step, kind: Action, action: sleep, params: {duration: 150ms}}
  - {id: last, kind: Action, action: sleep, params: {duration: 500ms}}
`)
	code, out := onTerminal(t, "run", flow, "--store", url, "--workers", "0")
	require.Equal(t, 0, code, out)
	checkFinal(t, out)
	fs := frames(out)
	require.Greater(t, len(fs), 2, "the view redrew while the run went on:\n%s", out)

	// Some frame before the end showed `first` done while `last` was not.
	require.True(t, anyFrame(fs[:len(fs)-1], func(f string) bool {
		first, _ := nodeLine(f, "first")
		last, _ := nodeLine(f, "last")
		return strings.Contains(first, "succeeded") && !strings.Contains(last, "succeeded")
	}), "no frame showed the run in progress:\n%s", out)

	// This process and the other worker both run tasks: the view merges
	// what it saw with the records.
	code, out = onTerminal(t, "run", flow, "--store", url, "--workers", "1")
	require.Equal(t, 0, code, out)
	checkFinal(t, out)

	// Off a terminal, nothing of the kind: this process ran no task.
	r := skript(t, "run", flow, "--store", url, "--workers", "0")
	require.Equal(t, 0, r.code, r.stderr)
	require.NotContains(t, r.stderr, "\x1b[")
	require.NotContains(t, r.stderr, "succeeded")

	// `status --wait` shows the same lines while it waits, then clears
	// them and prints the nodes on stdout.
	r = skript(t, "submit", flow, "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.TrimSpace(r.stdout)
	code, out = onTerminal(t, "status", id, "--store", url, "--wait")
	require.Equal(t, 0, code, out)
	fs = frames(out)
	require.Greater(t, len(fs), 2, out)
	require.True(t, anyFrame(fs[:len(fs)-1], func(f string) bool {
		_, ok := nodeLine(f, "first")
		return ok
	}), "live lines while waiting:\n%s", out)
	final := fs[len(fs)-1]
	require.Regexp(t, `^run [\w-]+ \(remote\) succeeded`, final, "the block was cleared before the report")
	require.Regexp(t, `(?m)^  step\s+succeeded`, final)
}

// checkFinal checks the last frame of the `remote` workflow's run: every
// node ended, the loop body's three iterations counted.
func checkFinal(t *testing.T, out string) {
	t.Helper()
	fs := frames(out)
	final := fs[len(fs)-1]
	require.NotContains(t, final, "running", final)
	for _, id := range []string{"first", "each", "last"} {
		l, ok := nodeLine(final, id)
		require.True(t, ok, "%s in the final frame:\n%s", id, final)
		require.Contains(t, l, "succeeded")
	}
	l, ok := nodeLine(final, "step")
	require.True(t, ok, final)
	require.Regexp(t, `succeeded\s+3 done`, l)
	require.Regexp(t, `(?m)^run [\w-]+ \(remote\) succeeded`, final)
}

// When a run fails while another node is still running (a Parallel whose
// one branch fails while the other sleeps in a shell), the last frame
// shows nothing as running, on the memory store and with the work done by
// a separate worker on Redis.
func TestLiveViewFinalFrameAfterFailure(t *testing.T) {
	flow := writeFlow(t, `name: failfast
nodes:
  - id: p
    kind: Parallel
    branches:
      - - {id: nap, kind: Action, action: shell, params: {command: "sleep 3"}}
      - - {id: pause, kind: Action, action: sleep, params: {duration: 400ms}}
        - {id: boom, kind: Action, action: fail, params: {message: nope}}
`)
	srv := redistest.Start(t)
	url := srv.URL()
	startWorker(t, url)
	for name, args := range map[string][]string{
		"memory": {"run", flow},
		"redis":  {"run", flow, "--store", url, "--workers", "0"},
	} {
		t.Run(name, func(t *testing.T) {
			code, out := onTerminal(t, args...)
			require.Equal(t, 1, code, out)
			fs := frames(out)
			final := fs[len(fs)-1]
			require.NotContains(t, final, "running", final)
			l, ok := nodeLine(final, "boom")
			require.True(t, ok, final)
			require.Contains(t, l, "failed")
			require.Contains(t, l, "nope")
			l, ok = nodeLine(final, "p")
			require.True(t, ok, final)
			require.NotContains(t, l, "succeeded")
			if l, ok := nodeLine(final, "nap"); ok {
				require.Contains(t, l, "cancelled")
			}
			if name == "memory" {
				// Seen running here, so shown; it ended with the run.
				_, ok := nodeLine(final, "nap")
				require.True(t, ok, final)
			}
		})
	}
}

// The steps of a fused chain run in one task: on a terminal, the first
// shows succeeded while the second still runs, whether this process runs
// the task (events) or a separate worker does (records).
func TestLiveViewShowsEachFusedStep(t *testing.T) {
	flow := writeFlow(t, fusedFlow)
	srv := redistest.Start(t)
	url := srv.URL()
	startWorker(t, url)
	for name, args := range map[string][]string{
		"memory": {"run", flow},
		"redis":  {"run", flow, "--store", url, "--workers", "0"},
	} {
		t.Run(name, func(t *testing.T) {
			code, out := onTerminal(t, args...)
			require.Equal(t, 0, code, out)
			fs := frames(out)
			require.True(t, anyFrame(fs[:len(fs)-1], func(f string) bool {
				one, _ := nodeLine(f, "one")
				two, _ := nodeLine(f, "two")
				return strings.Contains(one, "succeeded") && strings.Contains(two, "running")
			}), "no frame showed step one succeeded while two ran:\n%s", out)
			final := fs[len(fs)-1]
			for _, id := range []string{"one", "two"} {
				l, ok := nodeLine(final, id)
				require.True(t, ok, final)
				require.Contains(t, l, "succeeded")
			}
		})
	}
}

// Off a terminal, each step of a fused chain is printed as it finishes,
// with its own time.
func TestPlainLinesOfFusedSteps(t *testing.T) {
	flow := writeFlow(t, fusedFlow)
	r := skript(t, "run", flow)
	require.Equal(t, 0, r.code, r.stderr)
	at := map[string]float64{}
	for _, l := range strings.Split(r.stderr, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[2] == "succeeded" {
			s, err := strconv.ParseFloat(strings.TrimSuffix(f[0], "s"), 64)
			require.NoError(t, err, l)
			at[f[1]] = s
			if f[1] == "one" {
				require.Regexp(t, `succeeded\s+\d+ms$`, l, "step one's own time")
			}
		}
	}
	require.Contains(t, at, "one", r.stderr)
	require.Contains(t, at, "two", r.stderr)
	// Step two sleeps a second after step one has ended.
	require.GreaterOrEqual(t, at["two"]-at["one"], 0.9, "step one was printed as it ended:\n%s", r.stderr)
}

const fusedFlow = `name: fused
nodes:
  - {id: one, kind: Action, action: sleep, params: {duration: 300ms}}
  - {id: two, kind: Action, action: sleep, params: {duration: 1s}}
`

// Ctrl-C at a terminal echoes ^C where the cursor is, below the live
// block: the next frame starts from the line's first column, so it does
// not begin two columns in with a torn first line.
func TestLiveViewAfterCtrlC(t *testing.T) {
	flow := writeFlow(t, "name: slow\nnodes:\n  - {id: nap, kind: Action, action: sleep, params: {duration: 30s}}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", flow)
	cmd.Env = append(os.Environ(), "SKRIPT_STORE=")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 100, Rows: 40})
	require.NoError(t, err)
	defer func() { _ = tty.Close() }()
	var out bytes.Buffer
	copied := make(chan struct{})
	var mu sync.Mutex
	go func() {
		defer close(copied)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	// Wait for the block to show the node running, then press Ctrl-C.
	for deadline := time.Now().Add(20 * time.Second); ; {
		mu.Lock()
		seen := strings.Contains(ansi.ReplaceAllString(out.String(), ""), "nap")
		mu.Unlock()
		if seen {
			break
		}
		require.False(t, time.Now().After(deadline), "no live block")
		time.Sleep(20 * time.Millisecond)
	}
	_, err = tty.Write([]byte{3})
	require.NoError(t, err)
	<-copied
	err = cmd.Wait()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "exit error: %v", err)
	require.Equal(t, 130, ee.ExitCode())
	raw := out.String()
	i := strings.Index(raw, "^C")
	require.GreaterOrEqual(t, i, 0, "the terminal echoed ^C: %q", raw)
	rest := raw[i+2:]
	require.True(t, strings.HasPrefix(rest, "\r"), "what follows ^C starts at the first column: %q", rest)
	final := frames(strings.ReplaceAll(raw, "\r", ""))
	l, ok := nodeLine(final[len(final)-1], "nap")
	require.True(t, ok, raw)
	require.Contains(t, l, "cancelled")
}
