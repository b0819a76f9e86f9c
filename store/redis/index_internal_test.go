package redis

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis/redistest"
)

// TestExpiredRunsLeaveTheIndex checks that a run whose keys expired is no
// longer listed (its header is gone), and that the trim then removes it
// from every set of the index and frees its idempotency key.
func TestExpiredRunsLeaveTheIndex(t *testing.T) {
	tg := redistest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Open(ctx, tg.URL, WithPrefix(tg.Prefix(t)), WithPartitions(2), WithRetention(time.Second))
	require.NoError(t, err)
	defer s.Close()
	create := func(id, key string) error {
		return s.CreateRun(ctx, &store.Run{ID: id, Workflow: "wf", Hash: "h", Key: key}, &store.Transition{})
	}
	require.NoError(t, create("old", "k"))
	require.NoError(t, create("kept", ""))
	require.NoError(t, s.Cancel(ctx, "old", "stop"))
	list := func() []string {
		page, err := s.ListRuns(ctx, store.RunFilter{}, "", 10)
		require.NoError(t, err)
		var ids []string
		for _, r := range page.Runs {
			ids = append(ids, r.ID)
		}
		return ids
	}
	require.Equal(t, []string{"kept", "old"}, list(), "newest first")
	require.ErrorIs(t, create("again", "k"), store.ErrRunExists)

	require.Eventually(t, func() bool {
		_, err := s.GetRun(ctx, "old")
		return err != nil
	}, 5*time.Second, 50*time.Millisecond, "the ended run's keys expire")
	require.Equal(t, []string{"kept"}, list(), "an expired run is not listed")

	p := s.parts[s.partOf("old")]
	require.NoError(t, s.trim(ctx, s.partOf("old"), time.Now()))
	for _, k := range []string{p.idx, p.statusKey(store.Cancelled), p.workflowKey("wf"), p.expKey()} {
		n, err := s.c.Do(ctx, s.c.B().Zscore().Key(k).Member("old").Build()).ToString()
		require.Error(t, err, "%s still holds the run (%q)", k, n)
	}
	n, err := s.c.Do(ctx, s.c.B().Exists().Key(s.idemKey(keyHash("k"))).Build()).AsInt64()
	require.NoError(t, err)
	require.Zero(t, n, "the idempotency key is deleted with the run")
	counts, err := s.CountRuns(ctx, store.RunFilter{})
	require.NoError(t, err)
	require.Equal(t, map[store.Status]int{store.Running: 1}, nonzero(counts))
	require.NoError(t, create("again", "k"), "the key is free once its run is gone")
}

func nonzero(m map[store.Status]int) map[store.Status]int {
	out := map[store.Status]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}
