package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type timeDuration = time.Duration

const time1us = time.Microsecond

// TestResultJSONShape pins the names of `skript bench --output json`:
// scripts read them.
func TestResultJSONShape(t *testing.T) {
	base, ratio, cmds, bp50, bp99 := 230.0, 2.5, 1.2, 300.0, 1000.0
	r := &Result{Store: "memory", Fanout: 2000, Workflows: 4, Concurrency: 256, Tasks: 1000, Seconds: 1.5,
		TasksPerSec: 666.7, NsPerTask: 1500, SchedP50us: 12.5, SchedP99us: 80, AllocsPerTask: 4.2, PeakRSSMB: 100,
		BaselineNsPerTask: &base, Ratio: &ratio, CommandsPerTask: &cmds, GOMAXPROCS: 2,
		BaselineSchedP50us: &bp50, BaselineSchedP99us: &bp99,
		Trials: []Trial{{Setting: Setting{1, 64}, TasksPerSec: 10, Kept: true}}}
	var buf bytes.Buffer
	require.NoError(t, r.WriteJSON(&buf))
	require.Equal(t, 1, strings.Count(buf.String(), "\n"), "one object on one line")
	var m map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
	for _, k := range []string{"store", "fanout", "workflows", "concurrency", "tasks", "seconds", "tasks_per_sec",
		"ns_per_task", "sched_p50_us", "sched_p99_us", "allocs_per_task", "peak_rss_mb", "baseline_ns_per_task",
		"ratio", "commands_per_task", "gomaxprocs", "trials", "baseline_sched_p50_us", "baseline_sched_p99_us"} {
		require.Contains(t, m, k)
	}
	require.Equal(t, "memory", m["store"])
	require.Equal(t, 2000.0, m["fanout"])
	require.Equal(t, 2.5, m["ratio"])
	trial := m["trials"].([]any)[0].(map[string]any)
	require.Equal(t, map[string]any{"workflows": 1.0, "concurrency": 64.0, "tasks_per_sec": 10.0, "kept": true}, trial)

	// Without a baseline (a Redis store), the baseline fields are absent.
	r.BaselineNsPerTask, r.Ratio, r.CommandsPerTask, r.BaselineSchedP50us, r.BaselineSchedP99us = nil, nil, nil, nil, nil
	buf.Reset()
	require.NoError(t, r.WriteJSON(&buf))
	m = nil
	require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
	require.NotContains(t, m, "baseline_ns_per_task")
	require.NotContains(t, m, "ratio")
	require.NotContains(t, m, "baseline_sched_p99_us")
}

func TestResultText(t *testing.T) {
	base, ratio := 230.0, 2.5
	r := &Result{Store: "memory", Fanout: 2000, Workflows: 4, Concurrency: 256, Tasks: 1234567, Seconds: 1.5,
		TasksPerSec: 823044.7, NsPerTask: 1215, BaselineNsPerTask: &base, Ratio: &ratio,
		Trials: []Trial{{Setting: Setting{1, 64}, TasksPerSec: 10, Kept: true}}}
	var buf bytes.Buffer
	require.NoError(t, r.WriteText(&buf))
	out := buf.String()
	require.Contains(t, out, "823,045 tasks/s")
	require.Contains(t, out, "1,234,567 in 1.50s")
	require.Contains(t, out, "2.50x the baseline")
	require.Contains(t, out, "best")
}

func TestGroup(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		require.Equal(t, want, group(in))
	}
}

func TestParseCommandStats(t *testing.T) {
	info := "# Commandstats\r\ncmdstat_xadd:calls=12,usec=30,usec_per_call=2.5,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_evalsha:calls=3,usec=300,usec_per_call=100\r\n"
	require.Equal(t, int64(15), ParseCommandStats(info))
}

func TestWorkflowCompiles(t *testing.T) {
	for _, n := range []int{1, 5, 2000, 20000} {
		bp, err := Compile(n)
		require.NoError(t, err, "fan-out %d", n)
		require.Equal(t, "bench", bp.Name)
	}
}
