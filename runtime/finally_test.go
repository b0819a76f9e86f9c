package runtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
)

// finallyFlow builds a workflow whose body is body and whose finally
// nodes record what they saw, in a Parallel (so they run on tokens the
// finally token starts) and after it.
func finallyFlow(body, after string) string {
	return `name: with-finally
nodes:
` + body + `
finally:
  - id: report
    kind: Parallel
    branches:
      - - {id: seen, kind: Action, action: set, params: {status: "${{ run.status }}", error: "${{ run.error == nil ? '' : run.error.message }}"}}
      - - {id: tidy, kind: Action, action: set, params: {tidy: true}}
` + after + `
output: "${{ nodes.last.output }}"
`
}

// TestFinallyAfterSuccess: the finally nodes run after a success and see
// it; the run keeps the output it came to.
func TestFinallyAfterSuccess(t *testing.T) {
	reg := func(*testing.T) *action.Registry { return action.Builtins() }
	got := sameEverywhere(t, reg, finallyFlow(`  - {id: last, kind: Action, action: set, params: {v: 1}}`, ""))
	require.Contains(t, got, "status succeeded\n")
	require.Contains(t, got, `output {"v":1}`)
	require.Contains(t, got, `seen succeeded {"error":"","status":"succeeded"}`)
	require.Contains(t, got, `tidy succeeded {"tidy":true}`)
}

// TestFinallyAfterFailure: after a failure the finally nodes see the
// run's error, and the run fails with it.
func TestFinallyAfterFailure(t *testing.T) {
	reg := func(*testing.T) *action.Registry { return action.Builtins() }
	got := sameEverywhere(t, reg, finallyFlow(`  - {id: boom, kind: Action, action: fail, params: {message: disk full}}
  - {id: last, kind: Action, action: set, params: {v: 1}}`, ""))
	require.Contains(t, got, "status failed\nerror boom: disk full\n")
	require.Contains(t, got, `seen succeeded {"error":"disk full","status":"failed"}`)
	require.NotContains(t, got, "last ")
}

// TestFinallyFailureIsReported: a failing finally node fails a run that
// had succeeded, with its own error, and leaves an earlier failure as the
// run's error, its own on its record.
func TestFinallyFailureIsReported(t *testing.T) {
	reg := func(*testing.T) *action.Registry { return action.Builtins() }
	breaks := `  - {id: unlock, kind: Action, action: fail, params: {message: lock lost}}`
	got := sameEverywhere(t, reg, finallyFlow(`  - {id: last, kind: Action, action: set, params: {v: 1}}`, breaks))
	require.Contains(t, got, "status failed\nerror unlock: lock lost\n")
	require.Contains(t, got, `last succeeded {"v":1}`)

	got = sameEverywhere(t, reg, finallyFlow(`  - {id: boom, kind: Action, action: fail, params: {message: disk full}}
  - {id: last, kind: Action, action: set, params: {v: 1}}`, breaks))
	require.Contains(t, got, "status failed\nerror boom: disk full\n")
	require.Contains(t, got, "unlock failed null\n", "its failure stays on its record")
}

// TestFinallyAfterCancel: cancelling a run stops its running action (its
// context is cancelled) and runs the finally nodes, which see the run
// cancelled; the run ends cancelled with the reason.
func TestFinallyAfterCancel(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		var g gates
		reg := g.registry(t)
		bp, errs := compiler.Compile("flow.yaml", []byte(finallyFlow(`  - {id: wait, kind: Action, action: hold, params: {name: never}}
  - {id: last, kind: Action, action: set, params: {v: 1}}`, "")), compiler.Options{Registry: reg})
		require.Empty(t, errs)
		eng := runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = eng.Work(wctx, runtime.WorkerOptions{Grace: time.Second})
		}()
		defer func() { stop(); <-done }()
		run, err := eng.Start(ctx, bp, nil)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			recs, err := st.Records(ctx, run.ID, []store.RecordKey{{Key: "wait"}})
			return err == nil && recs[0] != nil && recs[0].Status == store.Running
		}, 10*time.Second, 10*time.Millisecond)
		require.NoError(t, eng.Cancel(ctx, run.ID, "operator said stop"))
		res, err := run.Wait(ctx)
		require.NoError(t, err)
		require.Equal(t, store.Cancelled, res.Status)
		require.Equal(t, "operator said stop", res.Error.Message)
		require.Equal(t, store.Cancelled, res.Nodes["wait"].Status)
		require.Equal(t, map[string]any{"status": "cancelled", "error": "operator said stop"}, res.Nodes["seen"].Output)
		require.Equal(t, store.Succeeded, res.Nodes["tidy"].Status)
		evs, err := st.Events(ctx, run.ID, 0, 1000, 0)
		require.NoError(t, err)
		var types []store.EventType
		for _, e := range evs {
			if e.Type == store.EventRunFinishing || e.Type == store.EventRunCancelled || e.Type == store.EventRunEnded {
				types = append(types, e.Type)
			}
		}
		require.Equal(t, []store.EventType{store.EventRunFinishing, store.EventRunEnded}, types, "the run ends once, at the very end")
	})
}

// TestFinallyRunsAgainOnRetry: a retry reuses what the workflow's nodes
// completed, never the finally nodes, which run at every end.
func TestFinallyRunsAgainOnRetry(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		reg := action.Builtins()
		bp, errs := compiler.Compile("flow.yaml", []byte(finallyFlow(`  - {id: once, kind: Action, action: set, params: {v: 1}}
  - {id: last, kind: Action, action: fail, params: {message: flaky}}`, "")), compiler.Options{Registry: reg})
		require.Empty(t, errs)
		eng := runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg))
		first := runWith(t, eng, runtime.WorkerOptions{Grace: time.Second}, bp, nil)
		require.Equal(t, store.Failed, first.Status)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = eng.Work(wctx, runtime.WorkerOptions{Grace: time.Second})
		}()
		defer func() { stop(); <-done }()
		run, err := eng.Retry(ctx, first.RunID, runtime.RetryOptions{})
		require.NoError(t, err)
		res, err := run.Wait(ctx)
		require.NoError(t, err)
		require.True(t, res.Nodes["once"].Reused)
		require.False(t, res.Nodes["seen"].Reused, "the finally nodes run again")
		require.Equal(t, map[string]any{"status": "failed", "error": "flaky"}, res.Nodes["seen"].Output)
	})
}
