package memory_test

import (
	"testing"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
	"github.com/skript-dev/skript/store/storetest"
)

func newStore(testing.TB) store.Store { return memory.New() }

func TestConformance(t *testing.T) { storetest.Run(t, newStore) }

func BenchmarkFanout2000(b *testing.B) { storetest.Benchmark(b, newStore, 2000) }
