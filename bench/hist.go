package bench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram counts durations in log-linear buckets: exact below 16 ns,
// then 16 buckets per power of two (about 6% wide), so a quantile is
// off by at most 3%. Workers add to it concurrently without a lock.
type histogram struct {
	counts [64 * 16]atomic.Uint64
}

func bucketOf(ns int64) int {
	if ns < 16 {
		return int(max(ns, 0))
	}
	e := bits.Len64(uint64(ns)) - 5 // keep the top 5 bits: 1mmmm
	return (e+1)*16 + int(ns>>e)&15
}

// bucketMid is the middle of bucket i, in ns.
func bucketMid(i int) float64 {
	if i < 16 {
		return float64(i)
	}
	e, m := i/16-1, i%16
	low := float64(int64(16+m) << e)
	return low + float64(int64(1)<<e)/2
}

func (h *histogram) add(d time.Duration) { h.counts[bucketOf(int64(d))].Add(1) }

func (h *histogram) reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
}

// quantile returns the q-quantile (0 < q <= 1), 0 when empty.
func (h *histogram) quantile(q float64) time.Duration {
	var total uint64
	for i := range h.counts {
		total += h.counts[i].Load()
	}
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	rank = min(max(rank, 1), total)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return time.Duration(bucketMid(i))
		}
	}
	return time.Duration(bucketMid(len(h.counts) - 1))
}
