package backoff

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDelayNeverNegativeWithoutMax(t *testing.T) {
	// 200ms × 10^15 overflows int64 nanoseconds; it must clamp instead.
	for n := 1; n < 200; n++ {
		d := Delay(n, 200*time.Millisecond, 0, 10, 0, nil)
		require.Positive(t, d, "retry %d", n)
		require.LessOrEqual(t, d, MaxDelay, "retry %d", n)
	}
	require.Equal(t, MaxDelay, Delay(16, 200*time.Millisecond, 0, 10, 0, nil))
}

func TestDelayGrowsAndClamps(t *testing.T) {
	require.Equal(t, 200*time.Millisecond, Delay(1, 200*time.Millisecond, 10*time.Second, 2, 0, nil))
	require.Equal(t, 400*time.Millisecond, Delay(2, 200*time.Millisecond, 10*time.Second, 2, 0, nil))
	require.Equal(t, 10*time.Second, Delay(30, 200*time.Millisecond, 10*time.Second, 2, 0, nil))
}

func TestDelayJitterSpreadsWithinBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[time.Duration]bool{}
	for range 1000 {
		d := Delay(3, time.Second, time.Minute, 2, 0.2, r)
		require.GreaterOrEqual(t, d, 3200*time.Millisecond)
		require.LessOrEqual(t, d, 4800*time.Millisecond)
		seen[d] = true
	}
	require.Greater(t, len(seen), 500, "jitter must spread the delays")
	// At the cap the jitter only shortens: max stays the longest wait.
	for range 1000 {
		d := Delay(20, time.Second, time.Minute, 2, 0.2, r)
		require.GreaterOrEqual(t, d, 48*time.Second)
		require.LessOrEqual(t, d, time.Minute)
	}
}

func TestLoopResets(t *testing.T) {
	l := New(time.Second, 4*time.Second)
	l.jitter = 0
	require.Equal(t, time.Second, l.Next())
	require.Equal(t, 2*time.Second, l.Next())
	require.Equal(t, 4*time.Second, l.Next())
	require.Equal(t, 4*time.Second, l.Next())
	l.Reset()
	require.Equal(t, time.Second, l.Next())
}

func TestSleepWatchesContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.False(t, Sleep(ctx, time.Hour))
	require.False(t, New(time.Hour, time.Hour).Wait(ctx))
}
