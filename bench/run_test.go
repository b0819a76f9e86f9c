package bench

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store/memory"
)

// TestRunMeasuresEveryFigure runs the whole benchmark briefly on the memory
// store: tuning, baseline and hold. It checks the figures are there and
// consistent, not how fast anything is.
func TestRunMeasuresEveryFigure(t *testing.T) {
	var phases []string
	res, err := Run(context.Background(), Config{
		Store: memory.New(memory.WithRetention(time.Second)), Fanout: 50,
		Duration: 200 * time.Millisecond, Trial: 50 * time.Millisecond,
		Start: Setting{1, 8}, Max: Setting{4, 32}, Baseline: true,
		Progress: func(p Progress) {
			if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
				phases = append(phases, p.Phase)
			}
		},
	})
	require.NoError(t, err)
	require.Equal(t, "memory", res.Store)
	require.Equal(t, 50, res.Fanout)
	require.NotEmpty(t, res.Trials)
	best := Setting{res.Workflows, res.Concurrency}
	kept := false
	for _, tr := range res.Trials {
		if tr.Setting == best && tr.Kept {
			kept = true
		}
	}
	require.True(t, kept, "the setting held is the best one tuned: %+v in %+v", best, res.Trials)
	require.Positive(t, res.Tasks)
	require.Zero(t, res.Tasks%50, "whole runs are counted")
	require.InDelta(t, res.TasksPerSec, float64(res.Tasks)/res.Seconds, 1)
	require.InDelta(t, res.NsPerTask, 1e9/res.TasksPerSec, 1)
	require.Positive(t, res.SchedP50us)
	require.GreaterOrEqual(t, res.SchedP99us, res.SchedP50us)
	require.Positive(t, res.AllocsPerTask)
	require.Positive(t, res.PeakRSSMB)
	require.NotNil(t, res.BaselineNsPerTask)
	require.NotNil(t, res.BaselineSchedP99us)
	require.GreaterOrEqual(t, *res.BaselineSchedP99us, *res.BaselineSchedP50us)
	require.NotNil(t, res.Ratio)
	require.InDelta(t, res.NsPerTask / *res.BaselineNsPerTask, *res.Ratio, 1e-9)
	require.Nil(t, res.CommandsPerTask)
	require.Contains(t, phases, "tuning")
	require.Contains(t, phases, "hold")
}

func TestRunFixedSettingSkipsTuning(t *testing.T) {
	res, err := Run(context.Background(), Config{Store: memory.New(), Fanout: 10, Duration: 50 * time.Millisecond,
		Start: Setting{2, 16}, Fixed: true})
	require.NoError(t, err)
	require.Empty(t, res.Trials)
	require.Equal(t, 2, res.Workflows)
	require.Equal(t, 16, res.Concurrency)
	require.Nil(t, res.BaselineNsPerTask)
}

func TestRunStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Config{Store: memory.New(), Fanout: 10, Duration: time.Hour, Fixed: true})
	require.ErrorIs(t, err, context.Canceled)
}

func TestBaseline(t *testing.T) {
	ns := Baseline(100, 10*time.Millisecond)
	require.Positive(t, ns)
}

func TestBaselineLatency(t *testing.T) {
	p50, p99 := BaselineLatency(100, 2, 10*time.Millisecond)
	require.Positive(t, p50)
	require.GreaterOrEqual(t, p99, p50)
}
