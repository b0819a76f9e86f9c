package redis_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis/redistest"
	"github.com/skript-dev/skript/store/storetest"
)

// An idle Lease waits until the next delayed task is due; the wait ends as
// its deadline passes, and that is not an error, even when the connection's
// deadline fires a moment before the context's own.
func TestLeaseWaitEndingAtDueTimeIsNotAnError(t *testing.T) {
	tg := redistest.New(t)
	s := open(t, tg, tg.Prefix(t))
	const n = 150
	start := time.Now().Add(200 * time.Millisecond)
	for i := range n {
		id := storetest.NewRunID()
		require.NoError(t, s.CreateRun(ctxT(t), &store.Run{ID: id, Workflow: "wf", Hash: "h"}, &store.Transition{
			Tokens: []store.TokenSet{{ID: "t", Seq: 1}},
			Tasks: []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 1,
				At: start.Add(time.Duration(i) * 7 * time.Millisecond)}},
		}))
	}
	got := 0
	for got < n {
		tasks, err := s.Lease(ctxT(t), "c", n, 2*time.Second)
		require.NoError(t, err, "after %d of %d tasks", got, n)
		got += len(tasks)
	}
}
