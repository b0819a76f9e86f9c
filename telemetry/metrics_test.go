package telemetry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
	"github.com/skript-dev/skript/telemetry"
)

func scrape(t *testing.T, m *telemetry.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL) //nolint:noctx // a test on loopback
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// Workflow names past the bound count as "other": a program starting
// runs of generated workflows cannot grow the series without end.
func TestWorkflowLabelsAreBounded(t *testing.T) {
	m := telemetry.NewMetrics()
	for i := range telemetry.MaxWorkflowLabels + 50 {
		m.RunStarted("wf-" + strconv.Itoa(i))
	}
	fams := scrape(t, m)
	series := fams["skript_runs_started_total"].GetMetric()
	require.Len(t, series, telemetry.MaxWorkflowLabels+1)
	other := 0.0
	for _, s := range series {
		if label(s, "workflow") == "other" {
			other = s.GetCounter().GetValue()
		}
	}
	require.EqualValues(t, 50, other)
}

// counted is a memory store that also counts its queues.
type counted struct{ store.Store }

func (counted) QueueStats(context.Context) ([]store.PartitionStats, error) {
	return []store.PartitionStats{{Partition: 0, Ready: 3, Delayed: 1}, {Partition: 1, Ready: 0, Delayed: 2}}, nil
}

// The measured store times its operations and counts its errors (an
// unknown run is an answer, not an error); a store that counts its queues
// has them scraped.
func TestStoreMetrics(t *testing.T) {
	m := telemetry.NewMetrics()
	st := m.Store(counted{memory.New()})
	ctx := context.Background()
	_, err := st.GetRun(ctx, "nope")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.GetBlueprint(ctx, "nope")
	require.Error(t, err)
	fams := scrape(t, m)
	for _, s := range fams["skript_store_operation_duration_seconds"].GetMetric() {
		if op := label(s, "op"); op == "get_run" || op == "get_blueprint" {
			require.EqualValues(t, 1, s.GetHistogram().GetSampleCount(), op)
		}
	}
	errs := map[string]float64{}
	for _, s := range fams["skript_store_errors_total"].GetMetric() {
		errs[label(s, "op")] = s.GetCounter().GetValue()
	}
	require.EqualValues(t, 0, errs["get_run"])
	require.EqualValues(t, 1, errs["get_blueprint"])
	depth := map[string]float64{}
	for _, s := range fams["skript_queue_depth"].GetMetric() {
		depth[label(s, "partition")] = s.GetGauge().GetValue()
	}
	require.Equal(t, map[string]float64{"0": 3, "1": 0}, depth)
	require.Len(t, fams["skript_queue_delayed_tasks"].GetMetric(), 2)
}
