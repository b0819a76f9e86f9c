package runtime_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/store/redis/redistest"
)

// A task that runs for several leases keeps its lease with the heartbeat
// the worker derives from the store's lease: no other worker takes it over
// and runs it again.
func TestHeartbeatFollowsTheStoresLease(t *testing.T) {
	tg := redistest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const lease = 300 * time.Millisecond
	st, err := redis.Open(ctx, tg.URL, redis.WithPrefix(tg.Prefix(t)), redis.WithPartitions(1), redis.WithLease(lease))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })

	var runs atomic.Int32
	reg := action.Builtins()
	require.NoError(t, action.Register(reg, "long", func(ctx context.Context, _ struct{}) (any, error) {
		runs.Add(1)
		select {
		case <-time.After(6 * lease):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return "done", nil
	}))
	bp, errs := compiler.Compile("long.yaml", []byte("name: long\nnodes:\n  - {id: l, kind: Action, action: long}\n"), compiler.Options{Registry: reg})
	require.Empty(t, errs)
	eng := runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg))

	wctx, stop := context.WithCancel(ctx)
	var workers sync.WaitGroup
	for range 2 {
		// No Heartbeat set: the worker must take it from the store.
		workers.Go(func() { _ = eng.Work(wctx, runtime.WorkerOptions{Grace: time.Second}) })
	}
	defer func() { stop(); workers.Wait() }()

	run, err := eng.Start(ctx, bp, nil)
	require.NoError(t, err)
	res, err := run.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Succeeded, res.Status)
	require.EqualValues(t, 1, runs.Load(), "the long task ran more than once: its lease ran out")
}
