package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
)

// These tests retry failed runs on every store, with the optimizer on
// (consecutive Actions fused into one Task) and off, and count how often
// each step's action really ran: a retry must run exactly what did not
// complete, or what follows its restart point, and nothing else.

// retryHost is a registry whose actions count their executions by key and
// fail while their key is marked failing.
type retryHost struct {
	reg *action.Registry
	// st is the store the runs are on, which a failing "hold" action
	// reads to see the run's other work completed.
	st store.Store

	mu sync.Mutex
	// runs counts executions by run id, then key: a task of an ended run
	// that a worker had already leased may still start after the run
	// ended, and it is not the retry's doing.
	runs    map[string]map[string]int
	failing map[string]bool
}

type keyParams struct {
	Key string `json:"key"`
	// Hold, for a failing key, waits until the run has this many
	// succeeded Action records before failing, so that the run's other
	// work has completed when the failure ends it.
	Hold int `json:"hold"`
}

func newRetryHost(t *testing.T) *retryHost {
	h := &retryHost{reg: action.Builtins(), runs: map[string]map[string]int{}, failing: map[string]bool{}}
	require.NoError(t, action.Register(h.reg, "work", func(ctx context.Context, p keyParams) (any, error) {
		call, _ := action.CallFrom(ctx)
		h.mu.Lock()
		if h.runs[call.RunID] == nil {
			h.runs[call.RunID] = map[string]int{}
		}
		h.runs[call.RunID][p.Key]++
		fail := h.failing[p.Key]
		h.mu.Unlock()
		if !fail {
			return "done " + p.Key, nil
		}
		for h.succeeded(ctx, call.RunID) < p.Hold {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(2 * time.Millisecond):
			}
		}
		return nil, fmt.Errorf("%s is broken", p.Key)
	}))
	return h
}

// succeeded counts the run's succeeded Action records.
func (h *retryHost) succeeded(ctx context.Context, id string) int {
	recs, err := h.st.AllRecords(ctx, id)
	if err != nil {
		return 0
	}
	n := 0
	for _, r := range recs {
		if r.Status == store.Succeeded && r.Attempts > 0 {
			n++
		}
	}
	return n
}

func (h *retryHost) fail(keys ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range keys {
		h.failing[k] = true
	}
}

// mend makes every key work.
func (h *retryHost) mend() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failing = map[string]bool{}
}

// counts returns how often each key ran in run id.
func (h *retryHost) counts(id string) map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.runs[id]))
	for k, v := range h.runs[id] {
		out[k] = v
	}
	return out
}

// onRetryStores runs fn on every store, with the optimizer on and off.
func onRetryStores(t *testing.T, fn func(t *testing.T, st store.Store, opts compiler.Options)) {
	for _, mode := range []struct {
		name string
		opts compiler.Options
	}{{"opt", compiler.Options{}}, {"no-opt", compiler.Options{NoOpt: true}}} {
		t.Run(mode.name, func(t *testing.T) {
			onStores(t, func(t *testing.T, st store.Store) { fn(t, st, mode.opts) })
		})
	}
}

type retryFlow struct {
	t   *testing.T
	st  store.Store
	eng *runtime.Engine
	bp  *blueprint.Blueprint
}

func newRetryFlow(t *testing.T, st store.Store, h *retryHost, opts compiler.Options, src string) *retryFlow {
	t.Helper()
	opts.Registry = h.reg
	h.st = st
	bp, errs := compiler.Compile("flow.yaml", []byte(src), opts)
	require.Empty(t, errs)
	f := &retryFlow{t: t, st: st, bp: bp, eng: runtime.New(runtime.WithStore(st), runtime.WithRegistry(h.reg))}
	wctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.eng.Work(wctx, runtime.WorkerOptions{Grace: time.Second})
	}()
	t.Cleanup(func() { stop(); <-done })
	return f
}

func (f *retryFlow) run(inputs map[string]any) *runtime.Result {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	run, err := f.eng.Start(ctx, f.bp, inputs)
	require.NoError(f.t, err)
	res, err := run.Wait(ctx)
	require.NoError(f.t, err)
	return res
}

func (f *retryFlow) retry(id string, opts runtime.RetryOptions) *runtime.Result {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	run, err := f.eng.Retry(ctx, id, opts)
	require.NoError(f.t, err)
	res, err := run.Wait(ctx)
	require.NoError(f.t, err)
	require.Equal(f.t, id, res.RetryOf)
	hdr, err := f.st.GetRun(ctx, run.ID)
	require.NoError(f.t, err)
	require.Equal(f.t, id, hdr.RetryOf)
	return res
}

// reused returns, by frame, whether the new run's records of node were
// kept from the earlier run.
func (f *retryFlow) reused(id, node string) map[string]bool {
	f.t.Helper()
	all, err := f.st.AllRecords(context.Background(), id)
	require.NoError(f.t, err)
	out := map[string]bool{}
	for _, r := range all {
		if r.Key == node {
			out[r.Frame] = r.Reused
		}
	}
	return out
}

const seqFlow = `name: seq
inputs:
  tag: {type: string, default: x}
nodes:
  - {id: a, kind: Action, action: work, params: {key: a}}
  - {id: b, kind: Action, action: work, params: {key: b}}
  - {id: c, kind: Action, action: work, params: {key: "c-${{ nodes.a.output }}-${{ input.tag }}"}}
`

// TestRetryFailedStepInSequence: the steps before the failed one are kept
// (also when fused with it into one Task), the failed one and those after
// it run, with the earlier run's inputs.
func TestRetryFailedStepInSequence(t *testing.T) {
	onRetryStores(t, func(t *testing.T, st store.Store, opts compiler.Options) {
		h := newRetryHost(t)
		f := newRetryFlow(t, st, h, opts, seqFlow)
		h.fail("b")
		res := f.run(map[string]any{"tag": "y"})
		require.Equal(t, store.Failed, res.Status)
		require.Equal(t, "b", res.Error.Node)

		h.mend()
		again := f.retry(res.RunID, runtime.RetryOptions{})
		require.Equal(t, store.Succeeded, again.Status, "%+v", again.Error)
		require.Equal(t, "done c-done a-y", again.Output)
		require.Equal(t, map[string]int{"b": 1, "c-done a-y": 1}, h.counts(again.RunID))
		require.True(t, again.Nodes["a"].Reused)
		require.False(t, again.Nodes["b"].Reused)
		require.Equal(t, map[string]bool{"": true}, f.reused(again.RunID, "a"))
	})
}

// TestRetryLoopRunsOnlyFailedIterations: of ten iterations, the two that
// did not complete run again, the eight that did are kept.
func TestRetryLoopRunsOnlyFailedIterations(t *testing.T) {
	onRetryStores(t, func(t *testing.T, st store.Store, opts compiler.Options) {
		h := newRetryHost(t)
		f := newRetryFlow(t, st, h, opts, `name: loop
nodes:
  - id: each
    kind: Loop
    for_each: "0..9"
    concurrency: 10
    body:
      - {id: pre, kind: Action, action: set, params: {i: "${{ index }}"}}
      - {id: step, kind: Action, action: work, params: {key: "i${{ index }}", hold: 18}}
  - {id: after, kind: Action, action: work, params: {key: after}}
`)
		h.fail("i3", "i7")
		res := f.run(nil)
		require.Equal(t, store.Failed, res.Status)

		h.mend()
		again := f.retry(res.RunID, runtime.RetryOptions{})
		require.Equal(t, store.Succeeded, again.Status, "%+v", again.Error)
		require.Equal(t, map[string]int{"i3": 1, "i7": 1, "after": 1}, h.counts(again.RunID))
		list := again.Nodes["each"].Output.([]any)
		require.Len(t, list, 10)
		for i, v := range list {
			require.Equal(t, fmt.Sprintf("done i%d", i), v)
		}
		reused := f.reused(again.RunID, "step")
		require.Len(t, reused, 10)
		for i := range 10 {
			require.Equal(t, i != 3 && i != 7, reused[fmt.Sprintf("each[%d]", i)], "iteration %d", i)
		}
	})
}

// TestRetryParallelRunsOnlyFailedBranch: the branches that completed are
// kept, the failed one runs again, then what follows the Parallel.
func TestRetryParallelRunsOnlyFailedBranch(t *testing.T) {
	onRetryStores(t, func(t *testing.T, st store.Store, opts compiler.Options) {
		h := newRetryHost(t)
		f := newRetryFlow(t, st, h, opts, `name: par
nodes:
  - id: fan
    kind: Parallel
    branches:
      - - {id: a1, kind: Action, action: work, params: {key: a1}}
        - {id: a2, kind: Action, action: work, params: {key: a2}}
      - - {id: b1, kind: Action, action: work, params: {key: b1, hold: 3}}
      - - {id: c1, kind: Action, action: work, params: {key: c1}}
  - {id: end, kind: Action, action: work, params: {key: end}}
`)
		h.fail("b1")
		res := f.run(nil)
		require.Equal(t, store.Failed, res.Status)
		require.Equal(t, "b1", res.Error.Node)

		h.mend()
		again := f.retry(res.RunID, runtime.RetryOptions{})
		require.Equal(t, store.Succeeded, again.Status, "%+v", again.Error)
		require.Equal(t, map[string]int{"b1": 1, "end": 1}, h.counts(again.RunID))
		require.Equal(t, []any{"done a2", "done b1", "done c1"}, again.Nodes["fan"].Output)
	})
}

// TestRetryFromNode: --from an earlier node runs it and everything after
// it again, even in a run that succeeded; a loop body node restarts every
// iteration from there.
func TestRetryFromNode(t *testing.T) {
	onRetryStores(t, func(t *testing.T, st store.Store, opts compiler.Options) {
		h := newRetryHost(t)
		f := newRetryFlow(t, st, h, opts, seqFlow)
		res := f.run(nil)
		require.Equal(t, store.Succeeded, res.Status)

		h.mend()
		again := f.retry(res.RunID, runtime.RetryOptions{From: "b"})
		require.Equal(t, store.Succeeded, again.Status, "%+v", again.Error)
		require.Equal(t, map[string]int{"b": 1, "c-done a-x": 1}, h.counts(again.RunID))

		third := f.retry(again.RunID, runtime.RetryOptions{From: "a"})
		require.Equal(t, map[string]int{"a": 1, "b": 1, "c-done a-x": 1}, h.counts(third.RunID))
	})
}

func TestRetryFromLoopBodyNode(t *testing.T) {
	onRetryStores(t, func(t *testing.T, st store.Store, opts compiler.Options) {
		h := newRetryHost(t)
		f := newRetryFlow(t, st, h, opts, `name: body
nodes:
  - {id: first, kind: Action, action: work, params: {key: first}}
  - id: each
    kind: Loop
    for_each: "0..2"
    body:
      - {id: x, kind: Action, action: work, params: {key: "x${{ index }}"}}
      - {id: y, kind: Action, action: work, params: {key: "y${{ index }}"}}
  - id: side
    kind: Parallel
    branches:
      - - {id: p, kind: Action, action: work, params: {key: p}}
      - - {id: q, kind: Action, action: work, params: {key: q}}
`)
		res := f.run(nil)
		require.Equal(t, store.Succeeded, res.Status)

		again := f.retry(res.RunID, runtime.RetryOptions{From: "y"})
		require.Equal(t, map[string]int{"y0": 1, "y1": 1, "y2": 1, "p": 1, "q": 1}, h.counts(again.RunID))

		again = f.retry(res.RunID, runtime.RetryOptions{From: "p"})
		require.Equal(t, map[string]int{"p": 1}, h.counts(again.RunID), "the other branch of a Parallel is not after p")
	})
}

// TestRetryKeepsFiredWait: a Wait that fired does not wait again.
func TestRetryKeepsFiredWait(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		h := newRetryHost(t)
		f := newRetryFlow(t, st, h, compiler.Options{}, `name: wait
nodes:
  - {id: nap, kind: Wait, duration: 1ms}
  - {id: a, kind: Action, action: work, params: {key: a}}
`)
		h.fail("a")
		res := f.run(nil)
		require.Equal(t, store.Failed, res.Status)
		h.mend()
		again := f.retry(res.RunID, runtime.RetryOptions{})
		require.Equal(t, store.Succeeded, again.Status)
		require.True(t, again.Nodes["nap"].Reused)
		require.Equal(t, map[string]int{"a": 1}, h.counts(again.RunID))
	})
}

// TestRetryKeepsHandledFailure: a failure the run went past (on_error:
// continue, a catch block that completed) is kept like a success; a
// catch block that failed runs again.
func TestRetryKeepsHandledFailure(t *testing.T) {
	onRetryStores(t, func(t *testing.T, st store.Store, opts compiler.Options) {
		h := newRetryHost(t)
		f := newRetryFlow(t, st, h, opts, `name: handled
nodes:
  - {id: soft, kind: Action, action: work, params: {key: soft}, on_error: continue}
  - id: guarded
    kind: Action
    action: work
    params: {key: guarded}
    catch:
      - {id: rescue, kind: Action, action: work, params: {key: rescue}}
  - {id: last, kind: Action, action: work, params: {key: last}}
`)
		h.fail("soft", "guarded", "rescue")
		res := f.run(nil)
		require.Equal(t, store.Failed, res.Status)
		require.Equal(t, "rescue", res.Error.Node)

		h.mend()
		again := f.retry(res.RunID, runtime.RetryOptions{})
		require.Equal(t, store.Succeeded, again.Status, "%+v", again.Error)
		require.Equal(t, map[string]int{"rescue": 1, "last": 1}, h.counts(again.RunID))
		require.Equal(t, store.Failed, again.Nodes["soft"].Status)
	})
}

// TestRetryRefusals: what cannot be retried says why, with errors callers
// can test.
func TestRetryRefusals(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		h := newRetryHost(t)
		f := newRetryFlow(t, st, h, compiler.Options{}, `name: refuse
nodes:
  - {id: fetch, kind: Action, action: work, params: {key: fetch, hold: 1000000}}
  - id: guarded
    kind: Action
    action: work
    params: {key: guarded}
    catch:
      - {id: rescue, kind: Action, action: noop}
`)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()

		_, err := f.eng.Retry(ctx, "no-such-run", runtime.RetryOptions{})
		require.ErrorIs(t, err, runtime.ErrRunNotFound)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.EqualError(t, err, `retry: no run "no-such-run" on this store`)

		// A run still going: fetch holds until cancelled.
		h.fail("fetch")
		run, err := f.eng.Start(ctx, f.bp, nil)
		require.NoError(t, err)
		_, err = f.eng.Retry(ctx, run.ID, runtime.RetryOptions{})
		require.ErrorIs(t, err, runtime.ErrRunNotEnded)
		require.EqualError(t, err, fmt.Sprintf("retry: run %q is still running; wait for it to end or cancel it", run.ID))
		require.NoError(t, run.Cancel(ctx))
		res, err := run.Wait(ctx)
		require.NoError(t, err)
		require.Equal(t, store.Cancelled, res.Status)

		_, err = f.eng.Retry(ctx, run.ID, runtime.RetryOptions{From: "fecth"})
		require.ErrorIs(t, err, runtime.ErrUnknownNode)
		var unknown *runtime.UnknownNodeError
		require.ErrorAs(t, err, &unknown)
		require.Equal(t, []string{"fetch"}, unknown.Suggestions)
		require.EqualError(t, err, `retry: workflow "refuse" has no node "fecth"; did you mean "fetch"?`)

		_, err = f.eng.Retry(ctx, run.ID, runtime.RetryOptions{From: "rescue"})
		require.ErrorIs(t, err, runtime.ErrNotRestartPoint)
		var rp *runtime.RestartPointError
		require.ErrorAs(t, err, &rp)
		require.EqualError(t, err, `retry: node "rescue" cannot be a restart point: it is in a catch block, which runs only when its Action fails; restart from "guarded"`)

		// A cancelled run can be retried: it runs what did not complete.
		h.mend()
		again := f.retry(run.ID, runtime.RetryOptions{})
		require.Equal(t, store.Succeeded, again.Status, "%+v", again.Error)
		require.Equal(t, map[string]int{"fetch": 1, "guarded": 1}, h.counts(again.RunID))

		_, err = f.eng.Retry(ctx, again.RunID, runtime.RetryOptions{})
		require.ErrorIs(t, err, runtime.ErrNothingToRetry)
		require.False(t, errors.Is(err, runtime.ErrRunNotEnded))
	})
}

// TestRetrySequentialAndWhileLoops: a for_each that runs one iteration at
// a time keeps the iterations before the failed one and runs the failed
// one and those that never started; a while loop keeps its completed
// iterations, and its condition sees the kept outputs.
func TestRetrySequentialAndWhileLoops(t *testing.T) {
	onRetryStores(t, func(t *testing.T, st store.Store, opts compiler.Options) {
		h := newRetryHost(t)
		f := newRetryFlow(t, st, h, opts, `name: loops
nodes:
  - {id: src, kind: Action, action: set, params: {list: "${{ 0..5 }}"}}
  - id: each
    kind: Loop
    for_each: nodes.src.output.list
    body:
      - {id: e, kind: Action, action: work, params: {key: "e${{ index }}"}}
  - id: again
    kind: Loop
    while: iteration < 3
    body:
      - id: inner
        kind: Loop
        for_each: "[0, 1]"
        body:
          - {id: w, kind: Action, action: work, params: {key: "w${{ iteration }}-${{ index }}"}}
`)
		h.fail("e4")
		res := f.run(nil)
		require.Equal(t, store.Failed, res.Status)
		h.mend()
		h.fail("w1-1")
		res2 := f.retry(res.RunID, runtime.RetryOptions{})
		require.Equal(t, store.Failed, res2.Status)
		require.Equal(t, map[string]int{"e4": 1, "e5": 1, "w0-0": 1, "w0-1": 1, "w1-0": 1, "w1-1": 1}, h.counts(res2.RunID))

		h.mend()
		res3 := f.retry(res2.RunID, runtime.RetryOptions{})
		require.Equal(t, store.Succeeded, res3.Status, "%+v", res3.Error)
		require.Equal(t, map[string]int{"w1-1": 1, "w2-0": 1, "w2-1": 1}, h.counts(res3.RunID))
		require.Equal(t, []any{[]any{"done w0-0", "done w0-1"}, []any{"done w1-0", "done w1-1"}, []any{"done w2-0", "done w2-1"}},
			res3.Nodes["again"].Output)
		require.True(t, f.reused(res3.RunID, "e")["each[0]"], "kept from the first run, through the second")
	})
}

// TestRetryFromFunctionNode: a function's node is named CALLID.ID; its
// local id alone gets the inlined names as suggestions.
func TestRetryFromFunctionNode(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		h := newRetryHost(t)
		f := newRetryFlow(t, st, h, compiler.Options{}, `name: fn
functions:
  twice:
    params: [k]
    nodes:
      - {id: one, kind: Action, action: work, params: {key: "${{ params.k }}-1"}}
      - {id: two, kind: Action, action: work, params: {key: "${{ params.k }}-2"}}
nodes:
  - {id: x, kind: Call, function: twice, args: {k: x}}
  - {id: y, kind: Call, function: twice, args: {k: y}}
`)
		res := f.run(nil)
		require.Equal(t, store.Succeeded, res.Status)
		ctx := context.Background()
		_, err := f.eng.Retry(ctx, res.RunID, runtime.RetryOptions{From: "two"})
		var unknown *runtime.UnknownNodeError
		require.ErrorAs(t, err, &unknown)
		require.Equal(t, []string{"x.two", "y.two"}, unknown.Suggestions)
		require.Contains(t, err.Error(), `did you mean one of "x.two", "y.two"?`)

		again := f.retry(res.RunID, runtime.RetryOptions{From: "x.two"})
		require.Equal(t, map[string]int{"x-2": 1, "y-1": 1, "y-2": 1}, h.counts(again.RunID))
	})
}

// TestRetryWithEachPassOff: the same retry runs the same steps whichever
// optimizer pass is switched off (one-branch Parallel, constant If, jumps
// threaded, steps fused).
func TestRetryWithEachPassOff(t *testing.T) {
	const src = `name: passes
nodes:
  - {id: a, kind: Action, action: work, params: {key: a}}
  - id: one
    kind: Parallel
    branches:
      - - {id: o1, kind: Action, action: work, params: {key: o1}}
        - {id: o2, kind: Action, action: work, params: {key: o2}}
  - id: fixed
    kind: If
    condition: "1 > 0"
    then:
      - {id: t1, kind: Action, action: work, params: {key: t1}}
    else:
      - {id: e1, kind: Action, action: work, params: {key: e1}}
  - id: each
    kind: Loop
    for_each: "[0, 1, 2]"
    concurrency: 3
    body:
      - {id: l1, kind: Action, action: work, params: {key: "l1-${{ index }}"}}
      - {id: l2, kind: Action, action: work, params: {key: "l2-${{ index }}", hold: 9}}
  - {id: z, kind: Action, action: work, params: {key: z}}
output: "${{ [nodes.one.output, nodes.fixed.output, nodes.each.output, nodes.z.output] }}"
`
	want := []any{[]any{"done o2"}, "done t1", []any{"done l2-0", "done l2-1", "done l2-2"}, "done z"}
	for _, p := range compiler.Passes {
		t.Run(p.Name, func(t *testing.T) {
			h := newRetryHost(t)
			f := newRetryFlow(t, memory.New(memory.WithRoundTrip()), h, compiler.Options{Disabled: map[string]bool{p.Name: true}}, src)
			h.fail("l2-1")
			res := f.run(nil)
			require.Equal(t, store.Failed, res.Status)
			h.mend()
			again := f.retry(res.RunID, runtime.RetryOptions{})
			require.Equal(t, store.Succeeded, again.Status, "%+v", again.Error)
			require.Equal(t, want, again.Output)
			require.Equal(t, map[string]int{"l2-1": 1, "z": 1}, h.counts(again.RunID))

			again = f.retry(again.RunID, runtime.RetryOptions{From: "o2"})
			require.Equal(t, want, again.Output)
			require.Equal(t, map[string]int{"o2": 1, "t1": 1, "l1-0": 1, "l1-1": 1, "l1-2": 1, "l2-0": 1, "l2-1": 1, "l2-2": 1, "z": 1},
				h.counts(again.RunID))
		})
	}
}

// TestRetryPassesKeptGroupsInline: a Parallel and a loop whose every
// branch and iteration was kept complete within the retry's first
// transition, which creates their groups and fills them at once.
func TestRetryPassesKeptGroupsInline(t *testing.T) {
	onRetryStores(t, func(t *testing.T, st store.Store, opts compiler.Options) {
		h := newRetryHost(t)
		f := newRetryFlow(t, st, h, opts, `name: inline
nodes:
  - id: fan
    kind: Parallel
    branches:
      - - {id: p1, kind: Action, action: work, params: {key: p1}}
      - - {id: p2, kind: Action, action: work, params: {key: p2}}
  - id: each
    kind: Loop
    for_each: "[0, 1, 2, 3]"
    concurrency: 0
    body:
      - {id: l, kind: Action, action: work, params: {key: "l${{ index }}"}}
  - {id: z, kind: Action, action: work, params: {key: z}}
output: "${{ [nodes.fan.output, nodes.each.output, nodes.z.output] }}"
`)
		h.fail("z")
		res := f.run(nil)
		require.Equal(t, store.Failed, res.Status)
		h.mend()
		again := f.retry(res.RunID, runtime.RetryOptions{})
		require.Equal(t, store.Succeeded, again.Status, "%+v", again.Error)
		require.Equal(t, map[string]int{"z": 1}, h.counts(again.RunID))
		require.Equal(t, []any{[]any{"done p1", "done p2"}, []any{"done l0", "done l1", "done l2", "done l3"}, "done z"}, again.Output)
		require.Equal(t, store.Succeeded, again.Nodes["fan"].Status)
		require.False(t, again.Nodes["fan"].Reused, "composite nodes get records of their own")
	})
}
