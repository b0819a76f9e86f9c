package runtime_test

import (
	"context"
	"strings"
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

// A run whose stored record no longer decodes fails, with the reason, after
// a bounded number of error lines; another run on the same workers goes on.
func TestCorruptRecordFailsOnlyItsRun(t *testing.T) {
	tg := redistest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prefix := tg.Prefix(t)
	st, err := redis.Open(ctx, tg.URL, redis.WithPrefix(prefix), redis.WithPartitions(1), redis.WithLease(time.Second))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	reg := action.Builtins()
	bp, errs := compiler.Compile("c.yaml", []byte(`name: c
nodes:
  - {id: a, kind: Action, action: noop}
  - {id: w, kind: Wait, duration: 700ms}
  - {id: b, kind: Action, action: log, params: {msg: "${{ nodes.a.status }}"}}
`), compiler.Options{Registry: reg})
	require.Empty(t, errs)
	eng := runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg))

	var lines atomic.Int32
	var mu sync.Mutex
	var last string
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = eng.Work(wctx, runtime.WorkerOptions{OnError: func(err error) {
			lines.Add(1)
			mu.Lock()
			last = err.Error()
			mu.Unlock()
		}})
	}()
	defer func() { stop(); <-done }()

	bad, err := eng.Start(ctx, bp, nil)
	require.NoError(t, err)
	good, err := eng.Start(ctx, bp, nil)
	require.NoError(t, err)
	// While the runs wait, garble the bad run's record of a, which b reads.
	c := tg.Client(t)
	key := prefix + ":{p0}:rec:" + bad.ID
	require.Eventually(t, func() bool {
		n, err := c.Do(ctx, c.B().Hexists().Key(key).Field("|a").Build()).AsBool()
		return err == nil && n
	}, 5*time.Second, 5*time.Millisecond, "no record of a at %s", key)
	require.NoError(t, c.Do(ctx, c.B().Hset().Key(key).FieldValue().FieldValue("|a", "{not json").Build()).Error())

	// Its header, not its records (one of which is garbage), says how it ended.
	hdr, err := st.WaitRun(ctx, bad.ID)
	require.NoError(t, err)
	require.Equal(t, store.Failed, hdr.Status)
	require.NotNil(t, hdr.Error)
	require.Contains(t, hdr.Error.Message, "store error")
	require.Contains(t, hdr.Error.Message, "bad record")

	res, err := good.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Succeeded, res.Status)
	t.Logf("error lines: %d", lines.Load())
	require.LessOrEqual(t, lines.Load(), int32(3), "error lines: %d, last %q", lines.Load(), last)
	mu.Lock()
	require.True(t, strings.Contains(last, bad.ID), last)
	mu.Unlock()
}
