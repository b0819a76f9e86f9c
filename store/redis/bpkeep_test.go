package redis_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/store/redis/redistest"
	"github.com/skript-dev/skript/store/storetest"
)

func TestBlueprintsExpireAfterTheirRuns(t *testing.T) {
	const retention = 2 * time.Hour
	tg := redistest.New(t)
	prefix := tg.Prefix(t)
	s := open(t, tg, prefix, redis.WithRetention(retention))
	c := tg.Client(t)
	ctx := ctxT(t)
	key := prefix + ":bp:h"
	ttl := func() time.Duration {
		ms, err := c.Do(ctx, c.B().Pttl().Key(key).Build()).AsInt64()
		require.NoError(t, err)
		return time.Duration(ms) * time.Millisecond
	}
	require.NoError(t, s.PutBlueprint(ctx, "h", []byte("bp")))
	first := ttl()
	require.Greater(t, first, retention, "a Blueprint outlives the runs kept after they end")
	require.Less(t, first, retention+48*time.Hour, "but it does expire")

	// Stored again, its expiry is not cut short.
	require.NoError(t, c.Do(ctx, c.B().Pexpire().Key(key).Milliseconds(1000*60).Build()).Error())
	require.NoError(t, s.PutBlueprint(ctx, "h", []byte("bp")))
	require.Greater(t, ttl(), retention)

	// A run created with it pushes the expiry; one that sleeps for 30 days
	// keeps it until it wakes up and beyond.
	require.NoError(t, c.Do(ctx, c.B().Pexpire().Key(key).Milliseconds(1000*60).Build()).Error())
	id := storetest.NewRunID()
	require.NoError(t, s.CreateRun(ctx, &store.Run{ID: id, Workflow: "wf", Hash: "h"}, &store.Transition{
		Tokens: []store.TokenSet{{ID: "t", Seq: 1}},
		Tasks:  []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 1, At: time.Now().Add(30 * 24 * time.Hour)}},
	}))
	require.Greater(t, ttl(), 30*24*time.Hour+retention)
}
