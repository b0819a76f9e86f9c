package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the result as one JSON object on one line.
func (r *Result) WriteJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(r)
}

// WriteText writes the tuning trials and the result as tables.
func (r *Result) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if len(r.Trials) > 0 {
		fmt.Fprintln(tw, "workflows\tconcurrency\ttasks/s\tkept\t")
		for _, t := range r.Trials {
			kept := ""
			if t.Kept {
				kept = "best"
			}
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t\n", t.Workflows, t.Concurrency, group(t.TasksPerSec), kept)
		}
		fmt.Fprintln(tw, "\t\t\t\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("store", r.Store)
	row("fan-out", fmt.Sprintf("%d noop Actions per workflow", r.Fanout))
	row("setting", fmt.Sprintf("%d workflows in flight, worker concurrency %d (GOMAXPROCS %d)", r.Workflows, r.Concurrency, r.GOMAXPROCS))
	row("tasks", fmt.Sprintf("%s in %.2fs", group(float64(r.Tasks)), r.Seconds))
	row("throughput", group(r.TasksPerSec)+" tasks/s")
	row("cost", fmt.Sprintf("%.0f ns/task", r.NsPerTask))
	if r.BaselineNsPerTask != nil {
		row("baseline", fmt.Sprintf("%.0f ns/task (a goroutine per task, joined by a WaitGroup)", *r.BaselineNsPerTask))
	}
	if r.Ratio != nil {
		row("ratio", fmt.Sprintf("%.2fx the baseline", *r.Ratio))
	}
	row("sched latency", fmt.Sprintf("p50 %.1f µs, p99 %.1f µs (ready to started)", r.SchedP50us, r.SchedP99us))
	if r.BaselineSchedP50us != nil && r.BaselineSchedP99us != nil {
		row("baseline latency", fmt.Sprintf("p50 %.1f µs, p99 %.1f µs (the same, for a goroutine per task)", *r.BaselineSchedP50us, *r.BaselineSchedP99us))
	}
	row("allocations", fmt.Sprintf("%.1f per task", r.AllocsPerTask))
	if r.CommandsPerTask != nil {
		kind := r.CommandsKind
		if kind == "" {
			kind = "redis commands"
		}
		row(kind, fmt.Sprintf("%.2f per task", *r.CommandsPerTask))
	}
	row("peak RSS", fmt.Sprintf("%.1f MiB", r.PeakRSSMB))
	return tw.Flush()
}

// group formats a number with thousands separators: 1234567 -> 1,234,567.
func group(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
