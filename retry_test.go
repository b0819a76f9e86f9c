package skript_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript"
	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/store/redis/redistest"
)

// TestRetryThroughTheRootAPI: a failed run retried from the Go API runs
// only the step that failed, with the run's inputs.
func TestRetryThroughTheRootAPI(t *testing.T) {
	eng, err := skript.New()
	require.NoError(t, err)
	defer func() { _ = eng.Close() }()
	var mu sync.Mutex
	broken, calls := true, map[string]int{}
	type params struct {
		Name string `json:"name"`
	}
	require.NoError(t, skript.Register(eng, "charge", func(_ context.Context, p params) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		calls[p.Name]++
		if broken && p.Name == "card" {
			return nil, errors.New("card declined")
		}
		return p.Name + " ok", nil
	}))
	bp, err := eng.Compile("f.yaml", []byte(`name: pay
inputs:
  who: {type: string, required: true}
nodes:
  - {id: reserve, kind: Action, action: charge, params: {name: stock}}
  - {id: pay, kind: Action, action: charge, params: {name: card}}
output: "${{ input.who + ': ' + nodes.pay.output }}"
`))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	run, err := eng.Start(ctx, bp, map[string]any{"who": "ada"})
	require.NoError(t, err)
	res, err := run.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Failed, res.Status)

	_, err = eng.Retry(ctx, res.RunID, skript.RetryOptions{From: "pya"})
	require.ErrorIs(t, err, runtime.ErrUnknownNode)
	require.ErrorContains(t, err, `did you mean "pay"?`)

	mu.Lock()
	broken = false
	mu.Unlock()
	again, err := eng.Retry(ctx, res.RunID, skript.RetryOptions{})
	require.NoError(t, err)
	out, err := again.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Succeeded, out.Status)
	require.Equal(t, "ada: card ok", out.Output)
	require.Equal(t, res.RunID, out.RetryOf)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, map[string]int{"stock": 1, "card": 2}, calls)
}

// TestRetryOnRedisCluster: the earlier run and its retry live in
// partitions that may sit on different shards; a retry reads the one and
// creates the other in calls of their own. Each round fails another
// iteration of a loop, and only that one runs again.
func TestRetryOnRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node Redis Cluster")
	}
	tg := redistest.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := redis.Open(ctx, tg.URL, redis.WithPrefix(tg.Prefix(t)), redis.WithClusterAddrs(tg.Addrs...))
	require.NoError(t, err)
	eng, err := skript.New(skript.WithStore(st))
	require.NoError(t, err)
	defer func() { _ = eng.Close() }()

	var mu sync.Mutex
	failing := -1
	calls := map[string]map[int]int{} // run id -> index -> executions
	type params struct {
		Index int `json:"index"`
	}
	require.NoError(t, skript.Register(eng, "step", func(ctx context.Context, p params) (any, error) {
		call, _ := action.CallFrom(ctx)
		mu.Lock()
		if calls[call.RunID] == nil {
			calls[call.RunID] = map[int]int{}
		}
		calls[call.RunID][p.Index]++
		fail := p.Index == failing
		mu.Unlock()
		if fail {
			return nil, fmt.Errorf("item %d is broken", p.Index)
		}
		return p.Index * 10, nil
	}))
	bp, err := eng.Compile("f.yaml", []byte(`name: cluster
nodes:
  - id: each
    kind: Loop
    for_each: "0..4"
    body:
      - {id: s, kind: Action, action: step, params: {index: "${{ index }}"}}
`))
	require.NoError(t, err)
	setFailing := func(i int) {
		mu.Lock()
		defer mu.Unlock()
		failing = i
	}
	ran := func(id string) map[int]int {
		mu.Lock()
		defer mu.Unlock()
		return calls[id]
	}

	setFailing(0)
	run, err := eng.Start(ctx, bp, nil)
	require.NoError(t, err)
	res, err := run.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Failed, res.Status)
	for i := 1; i <= 5; i++ {
		setFailing(i) // 5: none
		again, err := eng.Retry(ctx, res.RunID, skript.RetryOptions{})
		require.NoError(t, err)
		next, err := again.Wait(ctx)
		require.NoError(t, err)
		require.Equal(t, res.RunID, next.RetryOf)
		// The iteration that failed last time runs again and succeeds;
		// the next one, which never started, fails (until the last round).
		want := map[int]int{i - 1: 1}
		if i < 5 {
			want[i] = 1
		}
		require.Equal(t, want, ran(next.RunID), "round %d", i)
		res = next
	}
	require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
	require.Equal(t, []any{0, 10, 20, 30, 40}, res.Output)
}
