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
