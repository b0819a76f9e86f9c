package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store/redis/redistest"
)

// A race won while a losing branch's shell step runs in a worker process
// stops that step (its process is killed), though the run goes on: the
// step would otherwise write its file while the node after the race runs.
func TestRaceLoserStoppedAcrossWorkers(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	startWorker(t, url)
	startWorker(t, url)
	late := filepath.Join(t.TempDir(), "late")
	r := skript(t, "submit", writeFlow(t, `name: race-across
nodes:
  - id: race
    kind: Parallel
    mode: first
    branches:
      - - {id: slow, kind: Action, action: shell, params: {command: 'sleep 1.5 && echo late > "$LATE"', env: {LATE: `+late+`}}}
      - - {id: pause, kind: Wait, duration: 300ms}
        - {id: fast, kind: Action, action: set, params: {won: true}}
  - {id: after, kind: Action, action: sleep, params: {duration: 3s}}
`), "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.TrimSpace(r.stdout)
	st := waitStatus(t, url, id)
	require.Equal(t, "succeeded", st.Status, "%v", st.Error)
	_, err := os.Stat(late)
	require.True(t, os.IsNotExist(err), "the losing branch's step ran to its end")
}

// `skript cancel` from another process runs the workflow's finally
// nodes in a worker process; they see the run cancelled, and the run
// ends cancelled with the reason.
func TestCancelRunsFinallyAcrossProcesses(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	startWorker(t, url)
	r := skript(t, "submit", writeFlow(t, `name: long-with-finally
nodes:
  - {id: nap, kind: Action, action: sleep, params: {duration: 60s}}
finally:
  - {id: seen, kind: Action, action: set, params: {status: "${{ run.status }}", why: "${{ run.error.message }}"}}
`), "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.TrimSpace(r.stdout)
	require.Eventually(t, func() bool {
		r := skript(t, "status", id, "--store", url, "--output", "json")
		return strings.Contains(r.stdout, `"nap": {`) && strings.Contains(r.stdout, `"running"`)
	}, 10*time.Second, 50*time.Millisecond)
	r = skript(t, "cancel", id, "--store", url, "--reason", "operator said so")
	require.Equal(t, 0, r.code, r.stderr)
	st := waitStatus(t, url, id)
	require.Equal(t, "cancelled", st.Status)
	require.Equal(t, "operator said so", st.Error.(map[string]any)["message"])
	r = skript(t, "status", id, "--store", url, "--output", "json")
	require.Contains(t, strings.Join(strings.Fields(r.stdout), ""), `"output":{"status":"cancelled","why":"operatorsaidso"}`, r.stdout)
}
