package memory_test

import (
	"context"
	"strconv"
	"time"

	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
	"github.com/skript-dev/skript/store/storetest"
)

func newStore(testing.TB) store.Store { return memory.New() }

// The suite runs with values passed through the codec, so it checks the
// same values a serializing driver reads back; and without, as the CLI and
// the Go API run the store.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(testing.TB) store.Store { return memory.New(memory.WithRoundTrip()) })
}

func TestConformanceWithoutRoundTrip(t *testing.T) { storetest.Run(t, newStore) }

func BenchmarkFanout2000(b *testing.B) { storetest.Benchmark(b, newStore, 2000) }

// TestNewKeepsEndedRunsForTheDefaultRetention: New without WithRetention
// drops ended runs after DefaultRetention; WithRetention(0) keeps them.
func TestNewKeepsEndedRunsForTheDefaultRetention(t *testing.T) {
	require.Equal(t, memory.DefaultRetention, memory.New().Retention())
	require.Zero(t, memory.New(memory.WithRetention(0)).Retention())
}

func TestJournalLimits(t *testing.T) {
	storetest.RunLimits(t, func(_ testing.TB, lim store.JournalLimits) store.Store {
		return memory.New(memory.WithRoundTrip(), memory.WithJournalLimits(lim))
	})
}

// BenchmarkListRuns lists and counts over 100,000 kept runs.
func BenchmarkListRuns(b *testing.B) { storetest.BenchmarkListRuns(b, newStore, 100_000) }

// TestJournalExpiresWithTheRun: once an ended run's retention has passed,
// its journal, its place in the index and its idempotency key go with it.
func TestJournalExpiresWithTheRun(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.WithRetention(time.Millisecond))
	create := func(id string) error {
		return s.CreateRun(ctx, &store.Run{ID: id, Workflow: "wf", Hash: "h", Key: "k"}, &store.Transition{})
	}
	require.NoError(t, create("r1"))
	require.ErrorIs(t, create("r2"), store.ErrRunExists)
	require.NoError(t, s.Cancel(ctx, "r1", "stop"))
	time.Sleep(5 * time.Millisecond)
	page, err := s.ListRuns(ctx, store.RunFilter{}, "", 10)
	require.NoError(t, err)
	require.Empty(t, page.Runs)
	_, err = s.Events(ctx, "r1", 0, 10, 0)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, create("r2"), "the key is free again")
	page, err = s.ListRuns(ctx, store.RunFilter{}, "", 10)
	require.NoError(t, err)
	require.Len(t, page.Runs, 1)
	require.Equal(t, "r2", page.Runs[0].ID)
}

// TestLongJournal reads a journal of many chunks in pages of every size.
func TestLongJournal(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	require.NoError(t, s.CreateRun(ctx, &store.Run{ID: "r", Workflow: "wf", Hash: "h"}, &store.Transition{
		Tokens: []store.TokenSet{{ID: "t", Seq: 1}}, Tasks: []*store.Task{{Run: "r", Hash: "h", Kind: store.Exec, Token: "t", Seq: 1}}}))
	tasks, err := s.Lease(ctx, "w", 1, time.Second)
	require.NoError(t, err)
	const n = 10_000
	recs := make([]*store.Record, n)
	for i := range recs {
		recs[i] = &store.Record{RecordKey: store.RecordKey{Key: strconv.Itoa(i)}, Status: store.Running}
	}
	ok, err := s.StartStep(ctx, tasks[0], recs)
	require.NoError(t, err)
	require.True(t, ok)
	for _, page := range []int{1, 7, 1000, 5000, n + 1} {
		var after int64
		for after < n+1 {
			evs, err := s.Events(ctx, "r", after, page, 0)
			require.NoError(t, err)
			require.Len(t, evs, min(page, int(n+1-after)))
			for i, ev := range evs {
				require.Equal(t, after+int64(i)+1, ev.Seq)
				if ev.Seq > 1 {
					require.Equal(t, strconv.Itoa(int(ev.Seq-2)), ev.Node)
					require.Equal(t, "w", ev.Worker)
				}
			}
			after += int64(len(evs))
		}
	}
}
