package skript_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
	"github.com/skript-dev/skript/store/redis"
)

// TestEngineForgetsEndedRuns: the embedded memory store of New drops ended
// runs after the retention, as the CLI's does, instead of keeping every
// run a long-lived service ever ran.
func TestEngineForgetsEndedRuns(t *testing.T) {
	eng, err := skript.New(skript.WithRetention(20 * time.Millisecond))
	require.NoError(t, err)
	defer eng.Close()
	bp, err := eng.Compile("f.yaml", []byte("name: f\nnodes:\n  - {id: a, kind: Action, action: noop}\n"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, err := eng.Start(ctx, bp, nil)
	require.NoError(t, err)
	_, err = first.Wait(ctx)
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond)
	// Expiry happens as runs end: end another.
	second, err := eng.Start(ctx, bp, nil)
	require.NoError(t, err)
	_, err = second.Wait(ctx)
	require.NoError(t, err)
	_, err = eng.Result(ctx, first.ID)
	require.True(t, errors.Is(err, store.ErrNotFound), "first run still kept: %v", err)

	_, err = skript.New(skript.WithRetention(-time.Second))
	require.Error(t, err)
}

// TestOneRetentionDefault: both drivers keep ended runs equally long by
// default, so a result is readable for as long on either.
func TestOneRetentionDefault(t *testing.T) {
	require.Equal(t, redis.DefaultRetention, memory.DefaultRetention)
}
