package runtime_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
)

// flakyStore is a real memory store whose Complete and Release fail while
// told to.
type flakyStore struct {
	store.Store
	completeFails atomic.Int32 // how many more Completes fail (-1: all)
	releaseFails  atomic.Bool
	completes     atomic.Int32
}

var errInjected = errors.New("injected store failure")

func (s *flakyStore) Complete(ctx context.Context, done []store.Completion) ([]bool, error) {
	s.completes.Add(1)
	if n := s.completeFails.Load(); n != 0 {
		if n > 0 {
			s.completeFails.Add(-1)
		}
		return nil, errInjected
	}
	return s.Store.Complete(ctx, done)
}

func (s *flakyStore) Release(ctx context.Context, tasks []*store.Task) error {
	if s.releaseFails.Load() {
		return errInjected
	}
	return s.Store.Release(ctx, tasks)
}

func countingFlow(t *testing.T, st store.Store) (*runtime.Engine, *atomic.Int32, func() *runtime.Run) {
	t.Helper()
	var calls atomic.Int32
	reg := action.Builtins()
	require.NoError(t, action.Register(reg, "count", func(context.Context, struct{}) (any, error) {
		calls.Add(1)
		return "counted", nil
	}))
	bp, errs := compiler.Compile("c.yaml", []byte("name: c\nnodes:\n  - {id: c, kind: Action, action: count}\n"), compiler.Options{Registry: reg})
	require.Empty(t, errs)
	eng := runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg))
	return eng, &calls, func() *runtime.Run {
		run, err := eng.Start(context.Background(), bp, nil)
		require.NoError(t, err)
		return run
	}
}

// A store that fails Complete for a while (longer than any fixed number of
// tries) loses no completion: the worker keeps retrying, and the action
// runs once.
func TestCompleterKeepsRetrying(t *testing.T) {
	st := &flakyStore{Store: memory.New()}
	st.completeFails.Store(10)
	var reported atomic.Int32
	eng, calls, start := countingFlow(t, st)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- eng.Work(wctx, runtime.WorkerOptions{OnError: func(error) { reported.Add(1) }})
	}()
	res, err := start().Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Succeeded, res.Status)
	require.EqualValues(t, 1, calls.Load())
	require.GreaterOrEqual(t, st.completes.Load(), int32(11))
	stop()
	require.NoError(t, <-done)
}

// A worker that stops while its store refuses completions and hand-backs
// says so: Work returns the error instead of nil.
func TestWorkReturnsShutdownErrors(t *testing.T) {
	st := &flakyStore{Store: memory.New()}
	st.completeFails.Store(-1)
	st.releaseFails.Store(true)
	eng, _, start := countingFlow(t, st)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- eng.Work(ctx, runtime.WorkerOptions{Grace: 300 * time.Millisecond, OnError: func(error) {}})
	}()
	start()
	require.Eventually(t, func() bool { return st.completes.Load() > 0 }, 10*time.Second, 5*time.Millisecond)
	cancel()
	err := <-done
	require.ErrorIs(t, err, errInjected)
	require.ErrorContains(t, err, "complete 1 tasks")
	require.ErrorContains(t, err, "release 1 tasks")
}
