package skript_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis/redistest"
)

// BlockParams are the params of an action that blocks until its context
// is cancelled.
type BlockParams struct{}

func block(ctx context.Context, _ BlockParams) (any, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// events collects what an observer receives.
type events struct {
	mu  sync.Mutex
	all []runtime.Event
}

func (e *events) add(ev runtime.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

// of lists the statuses reported for a node ("" for the run-level events).
func (e *events) of(node string) []store.Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []store.Status
	for _, ev := range e.all {
		if ev.Node == node {
			out = append(out, ev.Status)
		}
	}
	return out
}

func TestNewRefusesNoWorkersOnMemory(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []skript.Option
		want string
	}{
		{"zero on the default store", []skript.Option{skript.WithWorkers(0)}, "a memory store needs in-process workers"},
		{"zero on memory", []skript.Option{skript.WithStoreURL("memory"), skript.WithWorkers(0)}, "a memory store needs in-process workers"},
		{"negative", []skript.Option{skript.WithWorkers(-1)}, "want 0 or more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng, err := skript.New(tc.opts...)
			require.Nil(t, eng)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestNilAndEmptyArgumentsAreErrors(t *testing.T) {
	eng, err := skript.New()
	require.NoError(t, err)
	defer eng.Close()
	ctx := context.Background()
	noop := func(context.Context, BlockParams) (any, error) { return nil, nil }
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"Start nil Blueprint", func() error { _, err := eng.Start(ctx, nil, nil); return err }, "no Blueprint"},
		{"Start empty Blueprint", func() error { _, err := eng.Start(ctx, &skript.Blueprint{}, nil); return err }, "out of range"},
		{"Register on nil Engine", func() error { return skript.Register(nil, "x", noop) }, "no Engine"},
		{"Register nil function", func() error { return skript.Register[BlockParams](eng, "x", nil) }, "has no function"},
		{"Register no name", func() error { return skript.Register(eng, "", noop) }, "has no name"},
		{"Compile nil", func() error { _, err := eng.Compile("x.yaml", nil); return err }, "holds no YAML document"},
		{"package Compile empty", func() error { _, err := skript.Compile("", []byte{}); return err }, "holds no YAML document"},
		{"Result unknown", func() error { _, err := eng.Result(ctx, "nope"); return err }, "not found"},
		{"Wait unknown", func() error { _, err := eng.Wait(ctx, "nope"); return err }, "not found"},
		{"Cancel unknown", func() error { return eng.Cancel(ctx, "nope", "") }, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NotPanics(t, func() { err = tc.call() })
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err = eng.Wait(ctx, "nope")
	require.True(t, errors.Is(err, store.ErrNotFound))
	require.True(t, errors.Is(eng.Cancel(ctx, "nope", ""), store.ErrNotFound))
}

// A run cancelled by id shows a final cancelled event for the node that was
// running, and a run failed by another node (fail-fast) does too, with the
// run-level event.
func TestObserverSeesCancelledNodes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		src      string
		cancel   bool
		status   store.Status
		runEvent []store.Status
	}{
		{"cancel", `
name: c
nodes:
  - {id: wait, kind: Action, action: block}
`, true, store.Cancelled, nil},
		{"fail-fast", `
name: f
nodes:
  - id: par
    kind: Parallel
    branches:
      - [{id: wait, kind: Action, action: block}]
      - - {id: nap, kind: Action, action: sleep, params: {duration: 50ms}}
        - {id: boom, kind: Action, action: fail, params: {message: boom}}
`, false, store.Failed, []store.Status{store.Failed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var evs events
			eng, err := skript.New(skript.WithObserver(evs.add))
			require.NoError(t, err)
			defer eng.Close()
			require.NoError(t, skript.Register(eng, "block", block))
			bp, err := eng.Compile("flow.yaml", []byte(tc.src))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			run, err := eng.Start(ctx, bp, nil)
			require.NoError(t, err)
			require.Eventually(t, func() bool { return len(evs.of("wait")) > 0 }, 5*time.Second, 5*time.Millisecond)
			if tc.cancel {
				require.NoError(t, eng.Cancel(ctx, run.ID, "stop"))
			}
			res, err := eng.Wait(ctx, run.ID)
			require.NoError(t, err)
			require.Equal(t, tc.status, res.Status)
			require.Equal(t, store.Cancelled, res.Nodes["wait"].Status)
			require.Eventually(t, func() bool { return len(evs.of("wait")) == 2 }, 5*time.Second, 5*time.Millisecond)
			require.Equal(t, []store.Status{store.Running, store.Cancelled}, evs.of("wait"))
			// The run-level event follows the transition that ended the
			// run, which Wait may see first.
			require.Eventually(t, func() bool { return len(evs.of("")) == len(tc.runEvent) }, 5*time.Second, 5*time.Millisecond)
			require.Equal(t, tc.runEvent, evs.of(""))
		})
	}
}

// On Redis, one engine submits without workers of its own, and others
// that did not start the run wait for it and cancel it by id.
func TestWaitAndCancelByIDOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	submit, err := skript.New(skript.WithStoreURL(srv.URL()), skript.WithWorkers(0))
	require.NoError(t, err)
	defer submit.Close()
	require.NoError(t, skript.Register(submit, "block", block))
	bp, err := submit.Compile("flow.yaml", []byte(`
name: r
nodes:
  - {id: hello, kind: Action, action: set, params: {v: 1}}
  - {id: wait, kind: Action, action: block}
`))
	require.NoError(t, err)
	run, err := submit.Start(ctx, bp, nil)
	require.NoError(t, err)

	var evs events
	worker, err := skript.New(skript.WithStoreURL(srv.URL()), skript.WithObserver(evs.add))
	require.NoError(t, err)
	defer worker.Close()
	require.NoError(t, skript.Register(worker, "block", block))
	waited := make(chan *skript.Result, 1)
	go func() {
		// Wait starts this engine's worker, which runs the run.
		res, err := worker.Wait(ctx, run.ID)
		if err != nil {
			t.Error(err)
		}
		waited <- res
	}()
	require.Eventually(t, func() bool { return len(evs.of("wait")) > 0 }, 10*time.Second, 10*time.Millisecond)

	other, err := skript.New(skript.WithStoreURL(srv.URL()), skript.WithWorkers(0))
	require.NoError(t, err)
	defer other.Close()
	require.NoError(t, other.Cancel(ctx, run.ID, "no longer needed"))
	res := <-waited
	require.NotNil(t, res)
	require.Equal(t, store.Cancelled, res.Status)
	require.Equal(t, "no longer needed", res.Error.Message)
	require.Eventually(t, func() bool { return len(evs.of("wait")) == 2 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, []store.Status{store.Running, store.Cancelled}, evs.of("wait"))

	// Cancelling an ended run changes nothing.
	require.NoError(t, other.Cancel(ctx, run.ID, "again"))
	res, err = other.Wait(ctx, run.ID)
	require.NoError(t, err)
	require.Equal(t, "no longer needed", res.Error.Message)
}

// A run that ends in this process gets one run-level event, with an empty
// Node, after its nodes' events.
func TestObserverRunLevelEvent(t *testing.T) {
	var evs events
	eng, err := skript.New(skript.WithObserver(evs.add))
	require.NoError(t, err)
	defer eng.Close()
	bp, err := eng.Compile("flow.yaml", []byte(`
name: ok
nodes:
  - {id: a, kind: Action, action: set, params: {v: 1}}
`))
	require.NoError(t, err)
	run, err := eng.Start(context.Background(), bp, nil)
	require.NoError(t, err)
	res, err := run.Wait(context.Background())
	require.NoError(t, err)
	require.Equal(t, store.Succeeded, res.Status)
	require.Eventually(t, func() bool { return len(evs.of("")) == 1 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, []store.Status{store.Succeeded}, evs.of(""))
	require.Equal(t, []store.Status{store.Running, store.Succeeded}, evs.of("a"))
	evs.mu.Lock()
	last := evs.all[len(evs.all)-1]
	evs.mu.Unlock()
	require.Equal(t, "", last.Node)
	require.Equal(t, run.ID, last.Run)
}

// A Blueprint built by hand is checked before it runs: an empty one is
// refused with what is wrong with it.
func TestStartRefusesMalformedBlueprint(t *testing.T) {
	eng, err := skript.New()
	require.NoError(t, err)
	defer func() { _ = eng.Close() }()
	_, err = eng.Start(context.Background(), &blueprint.Blueprint{Name: "empty"}, nil)
	require.ErrorContains(t, err, "blueprint: ")
	require.NotContains(t, err.Error(), "pc 0 out of range")
}
