package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
)

// testQueueStats checks the counts a metrics scrape reads: a task ready to
// lease, one delayed until later, and a leased one that is no longer ready.
func testQueueStats(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	sum := func() (ready, delayed int64) {
		t.Helper()
		parts, err := s.QueueStats(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, parts)
		for _, p := range parts {
			ready += p.Ready
			delayed += p.Delayed
		}
		return ready, delayed
	}
	ready, delayed := sum()
	require.Zero(t, ready)
	require.Zero(t, delayed)

	newRun(t, s,
		&store.Task{Kind: store.Exec, Token: "t", Seq: 1},
		&store.Task{Kind: store.Timer, Token: "t", Seq: 1, At: time.Now().Add(time.Hour)})
	ready, delayed = sum()
	require.Equal(t, int64(1), ready)
	require.Equal(t, int64(1), delayed)

	leaseN(t, s, 1)
	ready, delayed = sum()
	require.Zero(t, ready, "a leased task is not ready")
	require.Equal(t, int64(1), delayed)
}
