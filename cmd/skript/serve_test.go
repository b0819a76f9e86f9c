package main_test

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store/redis/redistest"
)

func TestServeRefusesUnsafeSettings(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--addr", "0.0.0.0:0"},
		{"serve", "--workers", "0"},
		{"serve", "--allow-action", "shel"},
		{"serve", "--token-file", filepath.Join(t.TempDir(), "missing")},
	} {
		r := skript(t, args...)
		require.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
		require.NotContains(t, r.stderr, "panic")
	}
}

var servingRE = regexp.MustCompile(`addr=(http://[0-9.:]+)`)

// skript serve as a child process: it answers with tokens, starts runs,
// and stops cleanly on SIGTERM.
func TestServeProcess(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("# operators\ntok-1\n"), 0o600))
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--token-file", tokens, "--store", redistest.Start(t).URL())
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	sc := bufio.NewScanner(stderr)
	base := ""
	for base == "" && sc.Scan() {
		if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
	}
	require.NotEmpty(t, base)
	go func() { _, _ = io.Copy(io.Discard, stderr) }()

	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body := `{"workflow": {"source": "name: x\nnodes: [{id: a, kind: Action, action: noop}]"}}`
	resp, err = http.Post(base+"/api/v1/runs", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/runs", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer tok-1")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "exit 0 after SIGTERM")
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestScheduleCommands(t *testing.T) {
	url := redistest.Start(t).URL()
	flow := writeFlow(t, "name: x\nnodes: [{id: a, kind: Action, action: noop}]\n")
	r := skript(t, "schedule", "add", "nightly", flow, "--cron", "30 2 * * *", "--tz", "America/New_York", "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "next run")
	r = skript(t, "schedule", "list", "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "nightly")
	require.Contains(t, r.stdout, "America/New_York")
	require.Equal(t, 0, skript(t, "schedule", "pause", "nightly", "--store", url).code)
	require.Contains(t, skript(t, "schedule", "list", "--store", url).stdout, "paused")
	require.Equal(t, 0, skript(t, "schedule", "resume", "nightly", "--store", url).code)
	r = skript(t, "schedule", "add", "bad", flow, "--cron", "soon", "--store", url)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "five fields")
	require.Equal(t, 0, skript(t, "schedule", "delete", "nightly", "--store", url).code)
	r = skript(t, "schedule", "delete", "nightly", "--store", url)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "not found")
	require.Equal(t, 2, skript(t, "schedule", "list").code, "a shared store is needed")
}
