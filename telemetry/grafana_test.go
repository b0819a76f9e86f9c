package telemetry_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/telemetry"
)

// exported returns the name of every metric family the metrics' registry
// describes: Skript's own, the Go runtime's and the process's.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	ch := make(chan *prometheus.Desc, 256)
	go func() {
		telemetry.NewMetrics().Registry().Describe(ch)
		close(ch)
	}()
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	names := map[string]bool{}
	for d := range ch {
		m := fq.FindStringSubmatch(d.String())
		require.NotNil(t, m, d.String())
		names[m[1]] = true
	}
	require.True(t, names["skript_steps_started_total"])
	return names
}

// queries returns every PromQL string of a dashboard: the panels'
// targets and the template variables' queries.
func queries(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && (k == "expr" || k == "definition") {
				*out = append(*out, s)
				continue
			}
			if k == "query" {
				if s, ok := e.(string); ok && strings.Contains(s, "(") {
					*out = append(*out, s)
					continue
				}
			}
			queries(e, out)
		}
	case []any:
		for _, e := range x {
			queries(e, out)
		}
	}
}

// Every query of the Grafana dashboard in docs/ names a metric, and every
// metric it names is one the program exports.
func TestGrafanaDashboardNamesExportedMetrics(t *testing.T) {
	data, err := os.ReadFile("../docs/grafana/skript.json")
	require.NoError(t, err)
	var dash map[string]any
	require.NoError(t, json.Unmarshal(data, &dash))
	var qs []string
	queries(dash, &qs)
	require.GreaterOrEqual(t, len(qs), 10, "the dashboard's queries")
	names := exported(t)
	metric := regexp.MustCompile(`\b(?:skript|go|process)_[a-z0-9_]+\b`)
	used := map[string]bool{}
	for _, q := range qs {
		found := metric.FindAllString(q, -1)
		require.NotEmpty(t, found, "query %q names no metric", q)
		for _, n := range found {
			base := n
			if !names[base] {
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if strings.HasSuffix(n, suf) && names[strings.TrimSuffix(n, suf)] {
						base = strings.TrimSuffix(n, suf)
					}
				}
			}
			require.True(t, names[base], "query %q names %s, which the program does not export", q, n)
			used[base] = true
		}
	}
	// And the dashboard shows each of Skript's own metrics.
	for n := range names {
		if strings.HasPrefix(n, "skript_") {
			require.True(t, used[n], "the dashboard has no panel for %s", n)
		}
	}
}
