package main_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store/redis/redistest"
)

// syncBuffer is a bytes.Buffer a child process writes to while the test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// liveWorker is a `skript worker` child whose log the test reads while it
// runs.
type liveWorker struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan error
}

func startLiveWorker(t *testing.T, url string, args ...string) *liveWorker {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"worker", "--store", url}, args...)...)
	cmd.Env = append(os.Environ(), "SKRIPT_STORE=")
	w := &liveWorker{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = w.stderr
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { err := cmd.Wait(); close(done); w.exited <- err }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return w
}

// waitLog waits until the worker's log holds n lines containing s.
func (w *liveWorker) waitLog(t *testing.T, s string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Count(w.stderr.String(), s) >= n }, 30*time.Second, 20*time.Millisecond,
		"worker log never had %d lines with %q:\n%s", n, s, w.stderr.String())
}

const oneStep = "name: one\nnodes:\n  - {id: a, kind: Action, action: set, params: {ok: true}}\n"

// A worker started before its Redis waits for it, saying so once per
// attempt with the redacted URL and the next delay, and then runs work;
// the short-lived commands fail at once instead, with exit code 2.
func TestWorkerWaitsForRedisAtStart(t *testing.T) {
	// A user of the configuration, not of ACL SETUSER, so that it is there
	// again after the restart.
	srv := redistest.Start(t, "--user", "app", "on", ">hunter22", "~*", "&*", "+@all")
	srv.Stop() // its port is now free, and Restart reuses it
	url := "redis://app:hunter22@" + srv.Addr() + "/0"
	w := startLiveWorker(t, url, "--concurrency", "4")
	w.waitLog(t, "store unreachable, retrying", 3)
	log := w.stderr.String()
	require.Contains(t, log, "retry_in=")
	require.Contains(t, log, "attempt=3")
	require.Contains(t, log, srv.Addr())
	require.NotContains(t, log, "hunter22")

	flow := writeFlow(t, oneStep)
	r := skript(t, "submit", flow, "--store", url)
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "--store")
	require.NotContains(t, r.stderr+r.stdout, "hunter22")

	require.NoError(t, srv.Restart())
	w.waitLog(t, "store reachable", 1)
	r = skript(t, "submit", flow, "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	st := waitStatus(t, url, strings.TrimSpace(r.stdout))
	require.Equal(t, "succeeded", st.Status, "%v", st.Error)
}

// A worker waiting for Redis stops cleanly on SIGTERM, and one whose
// password is refused does not wait at all: no retry mends that.
func TestWorkerStopsWaitingOnSIGTERMAndGivesUpOnBadPassword(t *testing.T) {
	srv := redistest.Start(t, "--user", "app", "on", ">hunter22", "~*", "&*", "+@all")
	w := startLiveWorker(t, "redis://app:wrong-pw@"+srv.Addr()+"/0")
	select {
	case err := <-w.exited:
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee)
		require.Equal(t, 2, ee.ExitCode(), w.stderr.String())
		require.NotContains(t, w.stderr.String(), "wrong-pw")
		require.NotContains(t, w.stderr.String(), "retrying")
	case <-time.After(20 * time.Second):
		t.Fatalf("worker with a refused password did not exit:\n%s", w.stderr.String())
	}

	port := redistest.FreePort(t)
	w = startLiveWorker(t, "redis://127.0.0.1:"+strconv.Itoa(port)+"/0")
	w.waitLog(t, "store unreachable, retrying", 1)
	require.NoError(t, w.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-w.exited:
		require.NoError(t, err, w.stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatal("worker waiting for Redis did not stop on SIGTERM")
	}
}

// A Redis Cluster node with no slots yet answers CLUSTERDOWN: a worker
// waits for the cluster to form and then runs work.
func TestWorkerWaitsForClusterToForm(t *testing.T) {
	srv := redistest.Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	w := startLiveWorker(t, srv.URL(), "--concurrency", "4")
	w.waitLog(t, "store unreachable, retrying", 2)
	// rueidis answers for the node before asking it: no slot is served.
	require.Contains(t, w.stderr.String(), "slot has no redis node")

	c := (&redistest.Target{URL: srv.URL()}).Client(t)
	require.NoError(t, c.Do(context.Background(), c.B().ClusterAddslotsrange().StartSlotEndSlot().StartSlotEndSlot(0, 16383).Build()).Error())
	w.waitLog(t, "store reachable", 1)
	r := skript(t, "run", writeFlow(t, oneStep), "--store", srv.URL(), "--workers", "0", "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `"succeeded"`)
}

// An evicting maxmemory-policy is refused by every command unless allowed,
// and allowing it says what may be lost.
func TestEvictingMaxmemoryPolicyIsRefused(t *testing.T) {
	srv := redistest.Start(t, "--maxmemory-policy", "allkeys-lru")
	url := srv.URL()
	flow := writeFlow(t, oneStep)
	r := skript(t, "run", flow, "--store", url)
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "maxmemory-policy allkeys-lru")
	require.Contains(t, r.stderr, "noeviction")

	w := startLiveWorker(t, url)
	select {
	case err := <-w.exited:
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee)
		require.Equal(t, 2, ee.ExitCode(), w.stderr.String())
		require.Contains(t, w.stderr.String(), "maxmemory-policy allkeys-lru")
	case <-time.After(20 * time.Second):
		t.Fatalf("worker did not refuse allkeys-lru:\n%s", w.stderr.String())
	}

	for _, args := range [][]string{{"--store", url, "--allow-eviction"}, {"--store", strings.TrimSuffix(url, "/0") + "/0?allow_eviction=true"}} {
		r = skript(t, append([]string{"run", flow, "--output", "json"}, args...)...)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, `"succeeded"`)
		require.Contains(t, r.stderr, "may_lose=")
	}

	c := (&redistest.Target{URL: url}).Client(t)
	require.NoError(t, c.Do(context.Background(), c.B().ConfigSet().ParameterValue().ParameterValue("maxmemory-policy", "volatile-lru").Build()).Error())
	r = skript(t, "run", flow, "--store", url)
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "ended runs")
}

// A user that may run neither CONFIG nor INFO cannot have the policy
// checked: Skript warns and goes on.
func TestUncheckableMaxmemoryPolicyWarns(t *testing.T) {
	srv := redistest.Start(t)
	c := (&redistest.Target{URL: srv.URL()}).Client(t)
	require.NoError(t, c.Do(context.Background(), c.B().AclSetuser().Username("app").Rule("on", ">apppw", "~*", "&*", "+@all", "-config", "-info").Build()).Error())
	r := skript(t, "run", writeFlow(t, oneStep), "--store", "redis://app:apppw@"+srv.Addr()+"/0", "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stderr, "cannot read maxmemory-policy")
	require.NotContains(t, r.stderr, "apppw")
}

// status reads a run with a user allowed only read commands: neither
// opening the store nor reading the run writes anything.
func TestStatusWithReadOnlyUser(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	r := skript(t, "run", writeFlow(t, oneStep), "--store", url, "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	id := runID(t, r.stdout)
	c := (&redistest.Target{URL: url}).Client(t)
	require.NoError(t, c.Do(context.Background(), c.B().AclSetuser().Username("reader").Rule("on", ">readpw", "~*", "+@read").Build()).Error())
	ro := "redis://reader:readpw@" + srv.Addr() + "/0"
	for _, args := range [][]string{{"status", id}, {"status", id, "--wait", "--output", "json"}} {
		r = skript(t, append(args, "--store", ro)...)
		require.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
		require.Contains(t, r.stdout, "succeeded")
		require.NotContains(t, r.stderr, "NOPERM")
	}
	r = skript(t, "status", "nosuchrun", "--store", ro)
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "not found")
}

func runID(t *testing.T, stdout string) string {
	t.Helper()
	_, rest, ok := strings.Cut(stdout, `"run_id": "`)
	require.True(t, ok, stdout)
	id, _, _ := strings.Cut(rest, `"`)
	return id
}

// A malformed store URL is named in the error with its password hidden,
// whichever part is wrong, through every command that takes one.
func TestStoreURLErrorsHideThePassword(t *testing.T) {
	const pw = "Sup3rSecretPw"
	flow := writeFlow(t, oneStep)
	for _, u := range []string{
		"redis://u:" + pw + "@127.0.0.1:99999/0",         // port out of range
		"redis://u:" + pw + "@127.0.0.1:abc/0",           // port not a number
		"redis://u:" + pw + "@127.0.0.1:1/abc",           // bad db number
		"redis://u:" + pw + "@127.0.0.1:1/0?bogus=1",     // unknown query option
		"redis://u:" + pw + "@127.0.0.1:1/0?db=x",        // bad db option
		"redis://u:" + pw + "@127.0.0.1:1/0%zz",          // url.Parse: bad escape
		"redis://u:" + pw + " x@[::1/0",                  // url.Parse: bad host
		"redis://u:Sup3r/SecretPw@127.0.0.1:1/0",         // a / in the password
		"redis://u:" + pw + "@127.0.0.1:1/0?ca=/nope",    // TLS option on redis://
		"rediss://u:" + pw + "@127.0.0.1:1/0?ca=/nope",   // unreadable CA
		"rediss://u:" + pw + "@127.0.0.1:1/0?cert=/nope", // cert without key
		"http://u:" + pw + "@127.0.0.1:1/0",              // not a Redis URL
	} {
		for _, args := range [][]string{{"run", flow}, {"submit", flow}, {"status", "x"}, {"cancel", "x"}, {"worker"}} {
			r := skript(t, append(args, "--store", u)...)
			require.Equal(t, 2, r.code, "%s %v: %s", u, args, r.stderr)
			require.Contains(t, r.stderr, "--store", u)
			for _, secret := range []string{pw, "Sup3r", "SecretPw"} {
				require.NotContains(t, r.stderr+r.stdout, secret, "%s %v", u, args)
			}
		}
	}
}
