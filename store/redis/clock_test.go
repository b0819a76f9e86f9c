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

// newDelayedRun creates a run whose only task is delayed by d on s's clock.
func newDelayedRun(t *testing.T, s store.Store, now time.Time, d time.Duration) string {
	t.Helper()
	id := storetest.NewRunID()
	require.NoError(t, s.CreateRun(ctxT(t), &store.Run{ID: id, Workflow: "wf", Hash: "h"}, &store.Transition{
		Tokens: []store.TokenSet{{ID: "t", Seq: 1}},
		Tasks:  []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 1, At: now.Add(d)}},
	}))
	return id
}

func TestSkewedClockFiresNothingEarly(t *testing.T) {
	const delay = 1500 * time.Millisecond
	fast := func() time.Time { return time.Now().Add(time.Hour) }
	for _, c := range []struct {
		name           string
		setter, leaser []redis.Option
		setterNow      func() time.Time
	}{
		// A worker one hour fast promotes a timer a worker on time set.
		{"promoted by a fast worker", nil, []redis.Option{redis.WithClock(fast)}, time.Now},
		// A worker one hour fast sets a timer: it is due after its delay,
		// not an hour late.
		{"set by a fast worker", []redis.Option{redis.WithClock(fast)}, nil, fast},
	} {
		t.Run(c.name, func(t *testing.T) {
			tg := redistest.New(t)
			prefix := tg.Prefix(t)
			setter := open(t, tg, prefix, c.setter...)
			leaser := open(t, tg, prefix, c.leaser...)
			start := time.Now()
			id := newDelayedRun(t, setter, c.setterNow(), delay)
			tk := leaseOne(t, leaser, "w", 10*time.Second)
			require.NotNil(t, tk, "the timer fires")
			require.Equal(t, id, tk.Run)
			require.GreaterOrEqual(t, time.Since(start), delay, "the timer does not fire early")
		})
	}
}
