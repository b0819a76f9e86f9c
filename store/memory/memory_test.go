package memory_test

import (
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
