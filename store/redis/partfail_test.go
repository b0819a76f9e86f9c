package redis_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/store/redis/redistest"
	"github.com/skript-dev/skript/store/storetest"
)

// createRuns tries to create n runs and returns the ids of those created.
func createRuns(t *testing.T, s store.Store, n int) (ok []string, errs []error) {
	t.Helper()
	for range n {
		id := storetest.NewRunID()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := s.CreateRun(ctx, &store.Run{ID: id, Workflow: "wf", Hash: "h"}, &store.Transition{
			Tokens: []store.TokenSet{{ID: "t", Seq: 1}},
			Tasks:  []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 1}},
		})
		cancel()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ok = append(ok, id)
	}
	return ok, errs
}

// leaseAll leases until every run in want had its task, or fails.
func leaseAll(t *testing.T, s store.Store, want []string) {
	t.Helper()
	left := map[string]bool{}
	for _, id := range want {
		left[id] = true
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(left) > 0 && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		got, err := s.Lease(ctx, "w", 10, time.Second)
		cancel()
		require.NoError(t, err, "the healthy partitions are leased from without an error")
		for _, tk := range got {
			delete(left, tk.Run)
		}
	}
	require.Empty(t, left, "every run on a healthy partition got its task leased")
}

func TestWrongTypeStopsOnlyItsPartition(t *testing.T) {
	tg := redistest.New(t)
	prefix := tg.Prefix(t)
	s := open(t, tg, prefix, redis.WithPartitions(4), redis.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	c := tg.Client(t)
	// A stray key of the wrong type in two partitions: one partition's
	// stream, another's delayed set.
	require.NoError(t, c.Do(ctxT(t), c.B().Del().Key(prefix+":{p1}:q").Build()).Error())
	require.NoError(t, c.Do(ctxT(t), c.B().Set().Key(prefix+":{p1}:q").Value("x").Build()).Error())
	require.NoError(t, c.Do(ctxT(t), c.B().Set().Key(prefix+":{p2}:delayed").Value("x").Build()).Error())
	ok, errs := createRuns(t, s, 24)
	require.NotEmpty(t, errs, "some runs fall in the partition whose stream is broken")
	for _, err := range errs {
		require.True(t, store.IsPermanent(err), "WRONGTYPE is permanent: %v", err)
	}
	require.NotEmpty(t, ok)
	leaseAll(t, s, ok)
}

func TestClusterShardDownStopsOnlyItsPartitions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node Redis Cluster")
	}
	tg := redistest.StartCluster(t, 3)
	prefix := tg.Prefix(t)
	s := open(t, tg, prefix, redis.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	// Leased once so the lease loop is warm; then a shard goes away.
	tg.Nodes[2].Stop()
	ok, errs := createRuns(t, s, 32)
	require.NotEmpty(t, errs, "runs of the stopped shard's partitions cannot be created")
	require.NotEmpty(t, ok)
	leaseAll(t, s, ok)
}
