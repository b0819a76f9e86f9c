package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/postgres"
	"github.com/skript-dev/skript/store/postgres/pgtest"
	"github.com/skript-dev/skript/store/storetest"
)

// open opens a store on a fresh database, closed when the test ends.
func open(t testing.TB, opts store.Options) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, pgtest.NewDatabase(t), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) store.Store { return open(tb, store.Options{}) })
}

func TestJournalLimits(t *testing.T) {
	storetest.RunLimits(t, func(tb testing.TB, lim store.JournalLimits) store.Store {
		return open(tb, store.Options{Journal: lim})
	})
}

// BenchmarkFanout2000 is the shared fan-out benchmark, with the SQL
// statements the driver sent per task.
func BenchmarkFanout2000(b *testing.B) {
	const n = 2000
	var s *postgres.Store
	var before int64
	storetest.Benchmark(b, func(tb testing.TB) store.Store {
		s = open(tb, store.Options{})
		before = s.Statements()
		return s
	}, n)
	tasks := (b.N + n - 1) / n * n
	b.ReportMetric(float64(s.Statements()-before)/float64(tasks), "stmts/task")
}

// BenchmarkListRuns measures the first page of `skript runs` and the
// counts by status over 20,000 kept runs (created one by one, which
// takes a while).
func BenchmarkListRuns(b *testing.B) {
	storetest.BenchmarkListRuns(b, func(tb testing.TB) store.Store { return open(tb, store.Options{}) }, 20_000)
}
