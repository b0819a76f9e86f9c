// Package backoff computes waits for retry loops: exponential growth from a
// first wait, clamped to a longest wait, with random jitter so that many
// callers failing together do not retry together. It is modelled on the
// retry policy of riverqueue/river: the delay is computed in float seconds
// (so it never overflows into a negative time.Duration), clamped, and then
// spread by a fraction of itself.
//
// Delay is the pure function (for retry policies stored in a Blueprint);
// Loop is the stateful helper for infrastructure retry loops (lease,
// complete, reconnect), with Reset after a success.
package backoff

import (
	"context"
	"math"
	"math/rand/v2"
	"time"
)

// MaxDelay bounds every delay this package returns, whatever the policy:
// far beyond any sensible retry wait, far below where time.Duration
// overflows.
const MaxDelay = 24 * time.Hour

// Delay is the wait before retry n (n = 1 is the first retry): first ×
// factor^(n-1), at most longest (MaxDelay when longest <= 0), then spread uniformly
// over ±jitter of itself (jitter in [0, 1]; 0 disables it) and clamped to
// longest again, so it stays the longest wait. r draws the jitter; nil uses
// the global source.
func Delay(n int, first, longest time.Duration, factor, jitter float64, r *rand.Rand) time.Duration {
	if longest <= 0 || longest > MaxDelay {
		longest = MaxDelay
	}
	if first <= 0 {
		return 0
	}
	if factor < 1 || math.IsNaN(factor) {
		factor = 1
	}
	n = max0(n - 1)
	// Float seconds: factor^n overflows int64 nanoseconds long before it
	// overflows a float64, and +Inf clamps like any large value.
	s := first.Seconds() * math.Pow(factor, float64(n))
	if limit := longest.Seconds(); !(s < limit) {
		s = limit
	}
	if jitter > 0 {
		jitter = math.Min(jitter, 1)
		u := 0.0
		if r != nil {
			u = r.Float64()
		} else {
			u = rand.Float64()
		}
		s += s * jitter * (2*u - 1)
		s = math.Min(s, longest.Seconds())
	}
	return time.Duration(s * float64(time.Second))
}

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

// Loop is the state of one retry loop: how many failures in a row it has
// seen. The zero Loop is not usable; build one with New. A Loop is not safe
// for concurrent use: give each loop its own.
type Loop struct {
	first, longest time.Duration
	factor         float64
	jitter         float64
	failures       int
}

// New returns a Loop whose first wait is first, doubling up to longest, with
// ±20% jitter.
func New(first, longest time.Duration) *Loop {
	return &Loop{first: first, longest: longest, factor: 2, jitter: 0.2}
}

// Next counts a failure and returns the wait before the next try.
func (l *Loop) Next() time.Duration {
	l.failures++
	return Delay(l.failures, l.first, l.longest, l.factor, l.jitter, nil)
}

// Failures is how many failures in a row the loop has seen since the last
// Reset.
func (l *Loop) Failures() int { return l.failures }

// Reset starts the loop again from its first wait, after a success.
func (l *Loop) Reset() { l.failures = 0 }

// Wait counts a failure and waits for the next try. It returns false,
// early, when ctx is done: a cut-short wait is not an error, so the caller
// checks ctx itself.
func (l *Loop) Wait(ctx context.Context) bool {
	return Sleep(ctx, l.Next())
}

// Sleep waits for d, or until ctx is done (then it returns false).
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
