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
	"github.com/skript-dev/skript/store/memory"
)

// remote hides the memory store's Local capability, so the worker treats
// it as a store across the network: tasks whose transition reads records
// must then run on goroutines of their own.
type remote struct{ store.Store }

func (r remote) Capabilities() store.Capabilities {
	c := r.Store.Capabilities()
	c.Local = false
	return c
}

// reads counts the record reads, to tell where they happened.
type countingRemote struct {
	remote
	reads chan struct{}
}

func (c *countingRemote) Records(ctx context.Context, run string, keys []store.RecordKey) ([]*store.Record, error) {
	select {
	case c.reads <- struct{}{}:
	default:
	}
	return c.remote.Records(ctx, run, keys)
}

const mixed = `name: mixed
inputs:
  n: {type: integer, default: 5}
nodes:
  - id: first
    kind: Action
    action: noop
  - id: each
    kind: Loop
    for_each: "0..(input.n - 1)"
    concurrency: 0
    body:
      - {id: double, kind: Action, action: set, params: {v: "${{ item * 2 }}"}}
  - id: nap
    kind: Action
    action: sleep
    params: {duration: 1ms}
  - id: par
    kind: Parallel
    branches:
      - - {id: a, kind: Action, action: noop}
      - - {id: b, kind: Action, action: log, params: {msg: "b"}}
output: "${{ {sum: sum(map(nodes.each.output, #.v)), par: len(nodes.par.output)} }}"
`

// runOn compiles and runs src on st with one worker and returns the result.
func runOn(t *testing.T, st store.Store, src string) *runtime.Result {
	t.Helper()
	bp, errs := compiler.Compile("mixed.yaml", []byte(src), compiler.Options{})
	require.Empty(t, errs)
	return runWith(t, runtime.New(runtime.WithStore(st)), runtime.WorkerOptions{Grace: time.Second, Concurrency: 8}, bp, nil)
}

// TestShortAndBlockingTasksAgree runs a workflow that mixes short tasks
// (noop, set, log) with a blocking one (sleep) on the memory store, where
// every short task runs on the worker's own goroutines, and on a store
// that looks remote, where those whose transition reads records do not.
// The results must be the same.
func TestShortAndBlockingTasksAgree(t *testing.T) {
	local := runOn(t, memory.New(), mixed)
	cr := &countingRemote{remote: remote{memory.New()}, reads: make(chan struct{}, 1)}
	far := runOn(t, cr, mixed)
	for _, res := range []*runtime.Result{local, far} {
		require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
		require.Equal(t, map[string]any{"sum": 20, "par": 2}, res.Output)
		for _, id := range []string{"first", "each", "double", "nap", "par", "a", "b"} {
			require.Equal(t, store.Succeeded, res.Nodes[id].Status, id)
		}
	}
	require.Len(t, cr.reads, 1, "the remote store was read (item, the loop's output)")
}

// TestRunEndCancelsBlockingTasks: a failing branch ends the run while a
// sibling waits on a goroutine of its own; the waiting action sees its
// context cancelled.
func TestRunEndCancelsBlockingTasks(t *testing.T) {
	reg := action.Builtins()
	cancelled := make(chan error, 1)
	require.NoError(t, reg.Add(action.Action{Name: "block", Run: func(ctx context.Context, _ *action.Call) (any, error) {
		<-ctx.Done()
		cancelled <- ctx.Err()
		return nil, ctx.Err()
	}}))
	bp, errs := compiler.Compile("ff.yaml", []byte(`name: ff
nodes:
  - id: par
    kind: Parallel
    branches:
      - - {id: slow, kind: Action, action: block}
      - - {id: nap, kind: Action, action: sleep, params: {duration: 50ms}}
        - {id: boom, kind: Action, action: fail, params: {message: "boom"}}
`), compiler.Options{Registry: reg})
	require.Empty(t, errs)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	eng := runtime.New(runtime.WithRegistry(reg))
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = eng.Work(wctx, runtime.WorkerOptions{Grace: 10 * time.Second})
	}()
	defer func() { stop(); <-done }()
	run, err := eng.Start(ctx, bp, nil)
	require.NoError(t, err)
	res, err := run.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Failed, res.Status)
	require.Equal(t, "boom", res.Error.Node)
	select {
	case err := <-cancelled:
		require.ErrorIs(t, err, context.Canceled)
	case <-ctx.Done():
		t.Fatal("the blocked action was never cancelled")
	}
}

// TestForEachOverANonList fails the same way whether or not the body reads
// its item (without, the list is only measured, not normalized).
func TestForEachOverANonList(t *testing.T) {
	for _, body := range []string{
		`{id: w, kind: Action, action: noop}`,
		`{id: w, kind: Action, action: set, params: {v: "${{ item }}"}}`,
	} {
		bp, errs := compiler.Compile("l.yaml", []byte(`name: l
nodes:
  - id: each
    kind: Loop
    for_each: input.v
    body:
      - `+body+"\n"), compiler.Options{})
		require.Empty(t, errs)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		eng := runtime.New()
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = eng.Work(wctx, runtime.WorkerOptions{Grace: time.Second})
		}()
		for _, in := range []any{5, "x", map[string]any{"a": 1}} {
			run, err := eng.Start(ctx, bp, map[string]any{"v": in})
			require.NoError(t, err)
			res, err := run.Wait(ctx)
			require.NoError(t, err)
			require.Equal(t, store.Failed, res.Status)
			require.Equal(t, "each", res.Error.Node)
			require.Contains(t, res.Error.Message, "for_each: want a list, got ")
		}
		run, err := eng.Start(ctx, bp, map[string]any{"v": []any{1, 2}})
		require.NoError(t, err)
		res, err := run.Wait(ctx)
		require.NoError(t, err)
		require.Equal(t, store.Succeeded, res.Status, body)
		require.Len(t, res.Nodes["each"].Output, 2)
		stop()
		<-done
		cancel()
	}
}
