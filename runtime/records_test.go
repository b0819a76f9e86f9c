package runtime_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
	"github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/store/redis/redistest"
)

// These tests check what a run's records say about its nodes while a task
// runs, after a node fails the run and after the run is cancelled, on both
// stores: a step that may block is running from the moment it starts, the
// Loop, Parallel, If and Call around a node that failed its run are failed
// with it, work the failure merely stopped is cancelled, and a node's start
// is its first attempt's.

// onStores runs fn once on a memory store and once on a Redis store.
func onStores(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("memory", func(t *testing.T) { fn(t, memory.New()) })
	t.Run("memory-codec", func(t *testing.T) { fn(t, memory.New(memory.WithRoundTrip())) })
	t.Run("redis", func(t *testing.T) {
		tg := redistest.New(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st, err := redis.Open(ctx, tg.URL, redis.WithPrefix(tg.Prefix(t)), redis.WithClusterAddrs(tg.Addrs...))
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		fn(t, st)
	})
}

// recFlow is one workflow on an engine with a worker, and the events the
// engine reported.
type recFlow struct {
	t   *testing.T
	st  store.Store
	eng *runtime.Engine
	bp  *blueprint.Blueprint

	mu     sync.Mutex
	events []runtime.Event
}

func newRecFlow(t *testing.T, st store.Store, reg *action.Registry, src string) *recFlow {
	t.Helper()
	if reg == nil {
		reg = action.Builtins()
	}
	bp, errs := compiler.Compile("flow.yaml", []byte(src), compiler.Options{Registry: reg})
	require.Empty(t, errs)
	f := &recFlow{t: t, st: st, bp: bp}
	f.eng = runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg), runtime.WithObserver(func(ev runtime.Event) {
		f.mu.Lock()
		f.events = append(f.events, ev)
		f.mu.Unlock()
	}))
	wctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.eng.Work(wctx, runtime.WorkerOptions{Grace: time.Second})
	}()
	t.Cleanup(func() { stop(); <-done })
	return f
}

func (f *recFlow) start() *runtime.Run {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	run, err := f.eng.Start(ctx, f.bp, nil)
	require.NoError(f.t, err)
	return run
}

func (f *recFlow) wait(run *runtime.Run) *runtime.Result {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := run.Wait(ctx)
	require.NoError(f.t, err)
	return res
}

// waitNode polls the run's result until node has status want.
func (f *recFlow) waitNode(run *runtime.Run, node string, want store.Status) *runtime.Result {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := f.eng.Result(context.Background(), run.ID)
		require.NoError(f.t, err)
		if n := res.Nodes[node]; n != nil && n.Status == want {
			return res
		}
		require.True(f.t, time.Now().Before(deadline), "node %s never became %s: %+v", node, want, res.Nodes[node])
		time.Sleep(5 * time.Millisecond)
	}
}

// records returns the run's records of node by frame.
func (f *recFlow) records(run *runtime.Run, node string) map[string]*store.Record {
	f.t.Helper()
	all, err := f.st.AllRecords(context.Background(), run.ID)
	require.NoError(f.t, err)
	out := map[string]*store.Record{}
	for _, r := range all {
		if r.Key == node {
			out[r.Frame] = r
		}
	}
	return out
}

// statuses returns the status of every node of a result.
func statuses(res *runtime.Result) map[string]store.Status {
	out := map[string]store.Status{}
	for id, n := range res.Nodes {
		out[id] = n.Status
	}
	return out
}

// TestRunningStepHasARecord: while a blocking step runs, status shows it
// running (with its start and attempt), and the step fused before it as
// done; its completion keeps that start.
func TestRunningStepHasARecord(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		f := newRecFlow(t, st, nil, `name: t9
nodes:
  - {id: a, kind: Action, action: noop}
  - {id: slow, kind: Action, action: sleep, params: {duration: 1s}}
`)
		require.Len(t, f.bp.Code[0].Steps, 2, "a and slow are fused into one task")
		run := f.start()
		res := f.waitNode(run, "slow", store.Running)
		require.Equal(t, store.Running, res.Status)
		slow := res.Nodes["slow"]
		require.Equal(t, 1, slow.Attempts)
		require.NotNil(t, slow.Started)
		require.Nil(t, slow.Finished)
		require.Equal(t, store.Succeeded, res.Nodes["a"].Status, "a finished before slow started")

		res = f.wait(run)
		require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
		require.Equal(t, map[string]store.Status{"a": store.Succeeded, "slow": store.Succeeded}, statuses(res))
		require.True(t, res.Nodes["slow"].Started.Equal(*slow.Started), "the completion keeps the start")
		require.GreaterOrEqual(t, res.Nodes["slow"].Finished.Sub(*res.Nodes["slow"].Started), time.Second)
	})
}

// TestCancelledRunCancelsItsRunningStep: cancelling a run (Ctrl-C on
// `skript run`) leaves the step that was running cancelled, not absent.
func TestCancelledRunCancelsItsRunningStep(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		f := newRecFlow(t, st, nil, `name: sig
nodes:
  - {id: sh, kind: Action, action: shell, params: {command: "sleep 5"}}
`)
		start := time.Now()
		run := f.start()
		running := f.waitNode(run, "sh", store.Running).Nodes["sh"]
		require.NoError(t, run.Cancel(context.Background()))
		res := f.wait(run)
		require.Less(t, time.Since(start), 4*time.Second, "the shell was stopped")
		require.Equal(t, store.Cancelled, res.Status)
		sh := res.Nodes["sh"]
		require.Equal(t, store.Cancelled, sh.Status)
		require.Equal(t, 1, sh.Attempts)
		require.True(t, sh.Started.Equal(*running.Started))
		require.NotNil(t, sh.Finished)
	})
}

// TestFailFastFailsTheParallel: a node that fails its run fails the
// Parallel around it, with its error; a sibling branch's step that was
// still running is cancelled.
func TestFailFastFailsTheParallel(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		f := newRecFlow(t, st, nil, `name: t8b
nodes:
  - id: p
    kind: Parallel
    branches:
      - - {id: slow, kind: Action, action: shell, params: {command: "sleep 2"}}
      - - {id: s, kind: Action, action: sleep, params: {duration: 300ms}}
        - {id: f, kind: Action, action: fail, params: {message: boom}}
  - {id: after, kind: Action, action: noop}
`)
		res := f.wait(f.start())
		require.Equal(t, store.Failed, res.Status)
		boom := &store.ErrorInfo{Node: "f", Message: "boom"}
		require.Equal(t, boom, res.Error)
		require.Equal(t, map[string]store.Status{"p": store.Failed, "slow": store.Cancelled, "s": store.Succeeded, "f": store.Failed},
			statuses(res))
		require.Equal(t, boom, res.Nodes["p"].Error)
		require.Equal(t, boom, res.Nodes["f"].Error)
		require.Nil(t, res.Nodes["slow"].Error)
		require.NotNil(t, res.Nodes["slow"].Started, "slow ran")
		require.NotNil(t, res.Nodes["p"].Started, "p keeps the time it was entered")
		require.False(t, res.Nodes["p"].Started.After(*res.Nodes["slow"].Started))

		// The events say the same: slow started, p failed with f's error.
		// Events of a transition are reported once the store has applied
		// it, so the last may come just after the run's end is seen.
		seen := func() (slowRan, pFailed bool) {
			f.mu.Lock()
			defer f.mu.Unlock()
			for _, ev := range f.events {
				slowRan = slowRan || (ev.Node == "slow" && ev.Status == store.Running)
				pFailed = pFailed || (ev.Node == "p" && ev.Status == store.Failed && ev.Error == "boom")
			}
			return slowRan, pFailed
		}
		require.Eventually(t, func() bool { s, p := seen(); return s && p }, 5*time.Second, 5*time.Millisecond)
		slowRan, pFailed := seen()
		require.True(t, slowRan, "a running event for slow")
		require.True(t, pFailed, "a failed event for p")
	})
}

// TestLoopBodyFailureFailsTheLoop: a body node failing one iteration fails
// the Loop; the other iterations, stopped, are cancelled.
func TestLoopBodyFailureFailsTheLoop(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		f := newRecFlow(t, st, nil, `name: t38
nodes:
  - id: l
    kind: Loop
    for_each: "[0,1,2]"
    concurrency: 0
    body:
      - {id: s, kind: Action, action: sleep, params: {duration: "${{ item == 1 ? '100ms' : '2s' }}"}}
      - {id: f, kind: Action, action: fail, params: {message: "it ${{ item }}"}}
`)
		run := f.start()
		res := f.wait(run)
		require.Equal(t, store.Failed, res.Status)
		it1 := &store.ErrorInfo{Node: "f", Message: "it 1"}
		require.Equal(t, it1, res.Error)
		require.Equal(t, store.Failed, res.Nodes["l"].Status)
		require.Equal(t, it1, res.Nodes["l"].Error)
		require.Equal(t, store.Failed, res.Nodes["f"].Status)

		s := f.records(run, "s")
		require.Len(t, s, 3)
		require.Equal(t, store.Cancelled, s["l[0]"].Status)
		require.Equal(t, store.Succeeded, s["l[1]"].Status)
		require.Equal(t, store.Cancelled, s["l[2]"].Status)
		fr := f.records(run, "f")
		require.Len(t, fr, 1, "f ran in l[1] only")
		require.Equal(t, store.Failed, fr["l[1]"].Status)
		require.Equal(t, store.Cancelled, res.Nodes["s"].Status, "a loop body node shows its last iteration")
	})
}

// TestFailedCallFailsItsCallers: a failure inside a function fails the
// Call and the If around it.
func TestFailedCallFailsItsCallers(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		f := newRecFlow(t, st, nil, `name: t39
functions:
  fn:
    nodes: [{id: x, kind: Action, action: fail, params: {message: boom}}]
nodes:
  - id: i
    kind: If
    condition: "1 == 1 && input.q == nil"
    then: [{id: c, kind: Call, function: fn}]
`)
		res := f.wait(f.start())
		require.Equal(t, store.Failed, res.Status)
		boom := &store.ErrorInfo{Node: "c.x", Message: "boom"}
		require.Equal(t, boom, res.Error)
		require.Equal(t, map[string]store.Status{"i": store.Failed, "c": store.Failed, "c.x": store.Failed}, statuses(res))
		for _, id := range []string{"i", "c"} {
			require.Equal(t, boom, res.Nodes[id].Error, id)
			require.NotNil(t, res.Nodes[id].Started, id)
			require.NotNil(t, res.Nodes[id].Finished, id)
		}
	})
}

// TestWhileBodyFailureIsRecordedInItsIteration: a node that fails inside a
// while loop, in an iteration the token entered during the same
// transition, is failed in that iteration's frame, and the loop with it.
func TestWhileBodyFailureIsRecordedInItsIteration(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		f := newRecFlow(t, st, nil, `name: wframe
nodes:
  - id: w
    kind: Loop
    while: "iteration < 3"
    body:
      - id: i
        kind: If
        condition: "iteration == 1 ? 'x' : false"
        then: [{id: b, kind: Action, action: noop}]
      - {id: a, kind: Action, action: noop}
`)
		run := f.start()
		res := f.wait(run)
		require.Equal(t, store.Failed, res.Status)
		require.Equal(t, "i", res.Error.Node)
		require.Equal(t, store.Failed, res.Nodes["w"].Status)
		require.Equal(t, res.Error, res.Nodes["w"].Error)
		i := f.records(run, "i")
		require.Equal(t, store.Succeeded, i["w[0]"].Status)
		require.Equal(t, store.Failed, i["w[1]"].Status)
		require.Equal(t, store.Failed, res.Nodes["i"].Status)
	})
}

// TestRetriedNodeStartsAtItsFirstAttempt: a node's start is its first
// attempt's, whether its action blocks (shell) or not (fail).
func TestRetriedNodeStartsAtItsFirstAttempt(t *testing.T) {
	for name, act := range map[string]string{
		"shell": `{id: a, kind: Action, action: shell, params: {command: "exit 1"}, retry: {max_attempts: 4, initial_interval: 50ms, backoff: 2, max_interval: 100ms, jitter: 0}}`,
		"fail":  `{id: a, kind: Action, action: fail, params: {message: no}, retry: {max_attempts: 4, initial_interval: 50ms, backoff: 2, max_interval: 100ms, jitter: 0}}`,
	} {
		t.Run(name, func(t *testing.T) {
			onStores(t, func(t *testing.T, st store.Store) {
				f := newRecFlow(t, st, nil, "name: t5\nnodes:\n  - "+act+"\n")
				res := f.wait(f.start())
				require.Equal(t, store.Failed, res.Status)
				a := res.Nodes["a"]
				require.Equal(t, store.Failed, a.Status)
				require.Equal(t, 4, a.Attempts)
				// Backoff 50ms, 100ms, 100ms between the four attempts.
				require.GreaterOrEqual(t, a.Finished.Sub(*a.Started), 250*time.Millisecond)
				// Started at the first attempt: the backoffs lie between the
				// start and the end, not before the start (which a loaded
				// machine may delay, but not past every backoff).
				require.Less(t, a.Started.Sub(res.Created), a.Finished.Sub(*a.Started), "started at the first attempt")
			})
		})
	}
}

// TestStaleDeliveryDoesNotRunTheAction: a task delivered again after its
// token moved on (a duplicate of the queue entry) is acknowledged without
// running its action, since its start could not be recorded.
func TestStaleDeliveryDoesNotRunTheAction(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		reg := action.Builtins()
		var calls atomic.Int32
		require.NoError(t, action.Register(reg, "count", func(context.Context, struct{}) (any, error) {
			return calls.Add(1), nil
		}))
		bp, errs := compiler.Compile("flow.yaml", []byte(`name: dup
nodes:
  - {id: c, kind: Action, action: count}
  - {id: nap, kind: Action, action: sleep, params: {duration: 500ms}}
`), compiler.Options{Registry: reg, NoOpt: true})
		require.Empty(t, errs)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		eng := runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg))
		run, err := eng.Start(ctx, bp, nil)
		require.NoError(t, err)
		// Take the first task before any worker does, keep a copy, and
		// hand it back.
		var first *store.Task
		for first == nil {
			got, err := st.Lease(ctx, "test", 1, time.Second)
			require.NoError(t, err)
			if len(got) > 0 {
				first = got[0]
			}
		}
		dup := *first
		dup.Lease = ""
		require.NoError(t, st.Release(ctx, []*store.Task{first}))

		f := &recFlow{t: t, st: st, eng: eng, bp: bp}
		wctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = eng.Work(wctx, runtime.WorkerOptions{Grace: time.Second})
		}()
		t.Cleanup(func() { stop(); <-done })
		f.waitNode(run, "nap", store.Running)
		// The token has moved on to nap: queue the first task again.
		require.NoError(t, st.Release(ctx, []*store.Task{&dup}))
		res := f.wait(run)
		require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
		require.EqualValues(t, 1, calls.Load(), "the stale copy did not run")
		require.Equal(t, store.Succeeded, res.Nodes["c"].Status)
	})
}
