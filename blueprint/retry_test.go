package blueprint

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRetryDelayNeverNegativeWithoutMaxInterval(t *testing.T) {
	r := Retry{MaxAttempts: 100, Backoff: 10}
	for attempt := 2; attempt <= 100; attempt++ {
		d := r.Delay(attempt)
		require.Positive(t, d, "attempt %d", attempt)
	}
}

func TestRetryDelayJitterIsOnByDefaultAndCanBeOff(t *testing.T) {
	r := Retry{MaxAttempts: 5, InitialInterval: time.Second}
	seen := map[time.Duration]bool{}
	for range 200 {
		d := r.Delay(3) // 2s ±10%
		require.GreaterOrEqual(t, d, 1800*time.Millisecond)
		require.LessOrEqual(t, d, 2200*time.Millisecond)
		seen[d] = true
	}
	require.Greater(t, len(seen), 50, "2,000 failing steps must not retry in lockstep")

	off := 0.0
	r.Jitter = &off
	require.Equal(t, 2*time.Second, r.Delay(3))
	r.MaxInterval = 1500 * time.Millisecond
	require.Equal(t, 1500*time.Millisecond, r.Delay(3))
}
