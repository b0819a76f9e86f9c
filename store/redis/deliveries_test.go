package redis_test

import (
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/store/redis/redistest"
)

func TestDeliveriesCountReclaims(t *testing.T) { testDeliveriesCountReclaims(t, redistest.New(t)) }

// testDeliveriesCountReclaims lets a task's lease run out again and again,
// each time leased by a consumer that then dies silently: every reclaim
// counts one more delivery, past the limit, which the task carries.
func testDeliveriesCountReclaims(t *testing.T, tg *redistest.Target) {
	const lease = 200 * time.Millisecond
	prefix := tg.Prefix(t)
	s := open(t, tg, prefix, redis.WithLease(lease), redis.WithMaxDeliveries(3))
	id := newRun(t, s)
	var tk *store.Task
	for i := int32(1); i <= 5; i++ {
		start := time.Now()
		tk = leaseOne(t, s, "w"+strconv.Itoa(int(i)), 5*time.Second)
		require.NotNil(t, tk, "delivery %d", i)
		if i > 1 {
			require.GreaterOrEqual(t, time.Since(start), lease*3/4, "delivery %d came before the lease ran out", i)
		}
		require.Equal(t, id, tk.Run)
		require.EqualValues(t, 1, tk.Seq, "the same task every time")
		require.Equal(t, i, tk.Deliveries)
		require.EqualValues(t, 3, tk.MaxDeliveries)
	}
	// The last worker finishes it (the runtime, with the node's failure):
	// the token's next task is a new entry, counted from 1.
	applied, err := s.Complete(ctxT(t), []store.Completion{{Task: tk, Transition: advance(tk)}})
	require.NoError(t, err)
	require.Equal(t, []bool{true}, applied)
	next := leaseOne(t, s, "w6", 2*time.Second)
	require.NotNil(t, next)
	require.EqualValues(t, 2, next.Seq)
	require.EqualValues(t, 1, next.Deliveries)
}

func TestDeliveriesOfABatch(t *testing.T) { testDeliveriesOfABatch(t, redistest.New(t)) }

// testDeliveriesOfABatch reclaims several entries in one call and checks
// each gets its own count, while a heartbeat (Extend) and a clean hand-back
// (Release) count nothing.
func testDeliveriesOfABatch(t *testing.T, tg *redistest.Target) {
	const lease = 200 * time.Millisecond
	prefix := tg.Prefix(t)
	s := open(t, tg, prefix, redis.WithLease(lease), redis.WithPartitions(1))
	for range 3 {
		newRun(t, s)
	}
	first, err := s.Lease(ctxT(t), "a", 3, 2*time.Second)
	require.NoError(t, err)
	require.Len(t, first, 3)
	for _, tk := range first {
		require.EqualValues(t, 1, tk.Deliveries)
		require.EqualValues(t, redis.DefaultMaxDeliveries, tk.MaxDeliveries)
	}
	// The worker dies, but one of its tasks has moved to a live worker that
	// keeps it alive with heartbeats until the other two are reclaimed.
	again := first[0]
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(lease / 4)
		defer tick.Stop()
		for {
			if err := s.Extend(ctxT(t), []*store.Task{again}); err != nil {
				t.Errorf("extend: %v", err)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	seen := map[string]int32{}
	for len(seen) < 2 {
		got, err := s.Lease(ctxT(t), "b", 2-len(seen), 5*time.Second)
		require.NoError(t, err)
		require.NotEmpty(t, got)
		for _, tk := range got {
			require.NotEqual(t, again.Run, tk.Run, "the task kept alive by heartbeats is not reclaimed")
			seen[tk.Run] = tk.Deliveries
			// Finished, so that they are not reclaimed once more below.
			applied, err := s.Complete(ctxT(t), []store.Completion{{Task: tk, Transition: &store.Transition{
				Token: tk.Token, Seq: tk.Seq, End: &store.RunEnd{Status: store.Succeeded}}}})
			require.NoError(t, err)
			require.Equal(t, []bool{true}, applied)
		}
	}
	close(stop)
	wg.Wait()
	for run, n := range seen {
		require.EqualValues(t, 2, n, "run %s", run)
	}
	third := leaseOne(t, s, "c", 5*time.Second)
	require.NotNil(t, third)
	require.Equal(t, again.Run, third.Run)
	require.EqualValues(t, 2, third.Deliveries, "heartbeats do not count as deliveries")
	// Handed back by a worker shutting down: a new entry, counted afresh.
	require.NoError(t, s.Release(ctxT(t), []*store.Task{third}))
	back := leaseOne(t, s, "d", 2*time.Second)
	require.NotNil(t, back)
	require.Equal(t, again.Run, back.Run)
	require.EqualValues(t, 1, back.Deliveries)
}

func TestWithMaxDeliveries(t *testing.T) {
	tg := redistest.New(t)
	for _, c := range []struct {
		n    int
		want int32
	}{
		{0, redis.DefaultMaxDeliveries},
		{-7, redis.DefaultMaxDeliveries},
		{1, 1},
		{12, 12},
		{math.MaxInt, math.MaxInt32},
	} {
		s := open(t, tg, tg.Prefix(t), redis.WithMaxDeliveries(c.n))
		newRun(t, s)
		tk := leaseOne(t, s, "w", 2*time.Second)
		require.NotNil(t, tk)
		require.Equal(t, c.want, tk.MaxDeliveries, "WithMaxDeliveries(%d)", c.n)
	}
}
