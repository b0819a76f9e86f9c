package bench

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// drive runs a tuner against a made-up throughput curve and returns the
// settings it measured, in order.
func drive(t *testing.T, tu *Tuner, tps func(Setting) float64) []Setting {
	t.Helper()
	var seen []Setting
	for range 100 {
		s, ok := tu.Next()
		if !ok {
			return seen
		}
		seen = append(seen, s)
		tu.Report(s, tps(s))
	}
	t.Fatal("the tuner never stopped")
	return nil
}

func TestTunerDoublesWorkflowsUntilThroughputStopsGrowing(t *testing.T) {
	// Throughput grows with the workflows in flight up to 8, then stays
	// flat; concurrency makes no difference.
	curve := func(s Setting) float64 { return float64(min(s.Workflows, 8)) * 1000 }
	tu := NewTuner(Setting{1, 64}, Setting{256, 4096}, 0.05, 0)
	seen := drive(t, tu, curve)
	require.Equal(t, []Setting{{1, 64}, {2, 64}, {4, 64}, {8, 64}, {16, 64}, {8, 128}}, seen)
	best, tps := tu.Best()
	require.Equal(t, Setting{8, 64}, best)
	require.Equal(t, 8000.0, tps)
	trials := tu.Trials()
	require.Len(t, trials, 6)
	require.True(t, trials[3].Kept)
	require.False(t, trials[4].Kept, "16 workflows are no better than 8")
}

func TestTunerIgnoresGainsBelowTheThreshold(t *testing.T) {
	// Each doubling gains 4%: not enough to count.
	curve := func(s Setting) float64 { return 1000 * (1 + 0.04*float64(s.Workflows-1)) }
	tu := NewTuner(Setting{1, 64}, Setting{256, 4096}, 0.05, 0)
	drive(t, tu, curve)
	best, _ := tu.Best()
	require.Equal(t, Setting{1, 64}, best)
}

func TestTunerRaisesConcurrencyThenWorkflowsAgain(t *testing.T) {
	// Throughput is capped by both: 1000 per workflow and 10 per slot of
	// concurrency. Raising one only pays once the other has been raised.
	curve := func(s Setting) float64 {
		return float64(min(s.Workflows*1000, s.Concurrency*10))
	}
	tu := NewTuner(Setting{1, 64}, Setting{64, 8192}, 0.05, 50)
	drive(t, tu, curve)
	best, tps := tu.Best()
	// 64 workflows give 64,000 once concurrency reaches 6400 (8192 here).
	require.Equal(t, Setting{64, 8192}, best)
	require.Equal(t, 64000.0, tps)
}

func TestTunerStaysWithinItsBounds(t *testing.T) {
	curve := func(s Setting) float64 { return float64(s.Workflows * s.Concurrency) }
	tu := NewTuner(Setting{1, 16}, Setting{8, 64}, 0.05, 0)
	for _, s := range drive(t, tu, curve) {
		require.LessOrEqual(t, s.Workflows, 8)
		require.LessOrEqual(t, s.Concurrency, 64)
	}
	best, _ := tu.Best()
	require.Equal(t, Setting{8, 64}, best)
}

func TestTunerStopsAfterMaxTrials(t *testing.T) {
	curve := func(s Setting) float64 { return float64(s.Workflows * s.Concurrency) }
	tu := NewTuner(Setting{1, 1}, Setting{1 << 20, 1 << 20}, 0.05, 5)
	require.Len(t, drive(t, tu, curve), 5)
}

func TestTunerNeverMeasuresASettingTwice(t *testing.T) {
	// A noisy curve: gains come and go.
	vals := []float64{100, 130, 120, 125, 180, 90, 200, 210, 150, 100, 300, 50}
	i := 0
	curve := func(Setting) float64 { v := vals[i%len(vals)]; i++; return v }
	tu := NewTuner(Setting{1, 8}, Setting{64, 1024}, 0.05, 0)
	seen := map[Setting]bool{}
	for _, s := range drive(t, tu, curve) {
		require.False(t, seen[s], "measured %+v twice", s)
		seen[s] = true
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	require.Zero(t, h.quantile(0.5))
	for i := 1; i <= 1000; i++ {
		h.add(time1us * timeDuration(i))
	}
	p50 := float64(h.quantile(0.5)) / 1e3
	p99 := float64(h.quantile(0.99)) / 1e3
	require.InDelta(t, 500, p50, 500*0.04)
	require.InDelta(t, 990, p99, 990*0.04)
	for ns := int64(0); ns < 1<<20; ns = ns*2 + 1 {
		mid := bucketMid(bucketOf(ns))
		require.InDelta(t, float64(ns), mid, float64(ns)*0.04+1, "ns=%d", ns)
	}
}
