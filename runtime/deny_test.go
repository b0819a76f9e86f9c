package runtime_test

import (
	"context"
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
)

// A worker that denies an action hands its tasks back: a step fused
// before the denied one runs once, and the denied step waits for a
// worker that allows it instead of failing.
func TestDeniedActionIsHandedBack(t *testing.T) {
	reg := action.Builtins()
	calls := map[string]*atomic.Int32{}
	for _, name := range []string{"prep", "guarded"} {
		n := new(atomic.Int32)
		calls[name] = n
		require.NoError(t, action.Register(reg, name, func(context.Context, struct{}) (any, error) {
			n.Add(1)
			return name + " ran", nil
		}))
	}
	bp, errs := compiler.Compile("deny.yaml", []byte(`name: deny
nodes:
  - {id: a, kind: Action, action: prep}
  - {id: b, kind: Action, action: guarded}
output: "${{ nodes.b.output }}"
`), compiler.Options{Registry: reg})
	require.Empty(t, errs)
	fused := false
	for _, in := range bp.Code {
		fused = fused || (in.Op == blueprint.OpTask && len(in.Steps) == 2)
	}
	require.True(t, fused, "the test is about a step fused after another")

	st := memory.New()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	denying := runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg), runtime.WithDeniedActions("guarded"))
	stopDenying := work(ctx, denying)
	defer stopDenying()

	run, err := denying.Start(ctx, bp, nil)
	require.NoError(t, err)
	time.Sleep(1500 * time.Millisecond)
	res, err := denying.Result(ctx, run.ID)
	require.NoError(t, err)
	require.Equal(t, store.Running, res.Status)
	require.EqualValues(t, 1, calls["prep"].Load())
	require.EqualValues(t, 0, calls["guarded"].Load())

	allowing := runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg))
	stopAllowing := work(ctx, allowing)
	defer stopAllowing()
	res, err = run.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Succeeded, res.Status, "%v", res.Error)
	require.Equal(t, "guarded ran", res.Output)
	require.EqualValues(t, 1, calls["prep"].Load())
	require.EqualValues(t, 1, calls["guarded"].Load())
}

// work runs an engine's worker until the returned function is called.
func work(ctx context.Context, e *runtime.Engine) func() {
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.Work(wctx, runtime.WorkerOptions{Concurrency: 8, Grace: time.Second})
	}()
	return func() { stop(); <-done }
}
