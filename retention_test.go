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

// TestMemoryStoreForgetsUnusedBlueprints: once no kept run uses a
// Blueprint, the memory store drops it too, so a service that compiles
// ever new workflows does not keep them all; one still in use stays.
func TestMemoryStoreForgetsUnusedBlueprints(t *testing.T) {
	const retention = 20 * time.Millisecond
	st := memory.New(memory.WithRetention(retention))
	eng, err := skript.New(skript.WithStore(st))
	require.NoError(t, err)
	defer eng.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run := func(name string) string {
		bp, err := eng.Compile("f.yaml", []byte("name: "+name+"\nnodes:\n  - {id: a, kind: Action, action: noop}\n"))
		require.NoError(t, err)
		r, err := eng.Start(ctx, bp, nil)
		require.NoError(t, err)
		_, err = r.Wait(ctx)
		require.NoError(t, err)
		return bp.Hash
	}
	old := run("old")
	_, err = st.GetBlueprint(ctx, old)
	require.NoError(t, err)
	// The old run expires, then its Blueprint after one more retention;
	// expiry happens as runs are created.
	var kept string
	for range 3 {
		time.Sleep(2 * retention)
		kept = run("kept")
	}
	_, err = st.GetBlueprint(ctx, old)
	require.True(t, errors.Is(err, store.ErrNotFound), "unused Blueprint still kept: %v", err)
	_, err = st.GetBlueprint(ctx, kept)
	require.NoError(t, err, "the Blueprint of a kept run was dropped")
	// Used again after being dropped, it is stored again.
	run("old")
}
