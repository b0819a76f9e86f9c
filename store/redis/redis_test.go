package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/store/redis/redistest"
	"github.com/skript-dev/skript/store/storetest"
)

// open opens a store on tg under prefix, closed when the test ends.
func open(t testing.TB, tg *redistest.Target, prefix string, opts ...redis.Option) *redis.Store {
	t.Helper()
	opts = append([]redis.Option{redis.WithPrefix(prefix), redis.WithClusterAddrs(tg.Addrs...)}, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := redis.Open(ctx, tg.URL, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// factory gives every store a fresh key prefix on the same Redis.
func factory(tg *redistest.Target, opts ...redis.Option) storetest.Factory {
	return func(t testing.TB) store.Store { return open(t, tg, tg.Prefix(t), opts...) }
}

func TestConformance(t *testing.T) {
	storetest.Run(t, factory(redistest.New(t)))
}

// TestConformanceOnePartition puts every run in one partition, so
// transitions of different runs share a script call and a stream.
func TestConformanceOnePartition(t *testing.T) {
	storetest.Run(t, factory(redistest.New(t), redis.WithPartitions(1)))
}

// TestCluster runs the conformance suite and the lease tests on a Redis
// Cluster of three primaries, where every call must stay in one slot.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node Redis Cluster")
	}
	tg := redistest.StartCluster(t, 3)
	t.Run("Conformance", func(t *testing.T) { storetest.Run(t, factory(tg)) })
	t.Run("JournalLimits", func(t *testing.T) { testJournalLimits(t, tg) })
	t.Run("LeaseExpires", func(t *testing.T) { testLeaseExpires(t, tg) })
	t.Run("HeartbeatKeepsLease", func(t *testing.T) { testHeartbeatKeepsLease(t, tg) })
	t.Run("BadEntriesGoToDeadStream", func(t *testing.T) { testBadEntriesGoToDeadStream(t, tg) })
	t.Run("EndedRunKeysExpire", func(t *testing.T) { testEndedRunKeysExpire(t, tg) })
	t.Run("IdleLeaseWakesUp", func(t *testing.T) { testIdleLeaseWakesUp(t, tg) })
	t.Run("DelayedTaskOnTime", func(t *testing.T) { testDelayedTaskOnTime(t, tg) })
	t.Run("DeliveriesCountReclaims", func(t *testing.T) { testDeliveriesCountReclaims(t, tg) })
	t.Run("DeliveriesOfABatch", func(t *testing.T) { testDeliveriesOfABatch(t, tg) })
}

func BenchmarkFanout2000(b *testing.B) {
	const n = 2000
	tg := redistest.New(b)
	c := tg.Client(b)
	var before int64
	newStore := func(tb testing.TB) store.Store {
		s := open(tb, tg, tg.Prefix(tb))
		before = tg.CommandCalls(tb, c)
		return s
	}
	storetest.Benchmark(b, newStore, n)
	if tg.External {
		return // other clients' commands would be counted too
	}
	// The INFO that takes the second reading counts itself.
	calls := tg.CommandCalls(b, c) - before - 1
	tasks := (b.N + n - 1) / n * n
	b.ReportMetric(float64(calls)/float64(tasks), "cmds/task")
}

func TestJournalLimits(t *testing.T) { testJournalLimits(t, redistest.New(t)) }

func testJournalLimits(t *testing.T, tg *redistest.Target) {
	storetest.RunLimits(t, func(tb testing.TB, lim store.JournalLimits) store.Store {
		return open(tb, tg, tg.Prefix(tb), redis.WithJournalLimits(lim))
	})
}

// BenchmarkListRuns measures the first page of `skript runs` and the
// counts by status over 100,000 kept runs (see storetest.BenchmarkListRuns).
func BenchmarkListRuns(b *testing.B) {
	tg := redistest.New(b)
	storetest.BenchmarkListRuns(b, func(tb testing.TB) store.Store { return open(tb, tg, tg.Prefix(tb)) }, 100_000)
}
