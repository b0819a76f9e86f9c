package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store"
)

// checkOutput refuses an --output other than text or json.
func checkOutput(output string) error {
	if output != "text" && output != "json" {
		return exit(2, fmt.Errorf("--output %q: want text or json", output))
	}
	return nil
}

// writeJSON prints v as one indented JSON object.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return exit(1, err)
	}
	return nil
}

// parseSince reads --since: a Go duration (90m, 1h30m) or a number of
// days (7d), positive.
func parseSince(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n float64
		n, err = strconv.ParseFloat(days, 64)
		d = time.Duration(n * float64(24*time.Hour))
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, exit(2, fmt.Errorf("--since %q: want a positive duration such as 30m, 1h or 7d", s))
	}
	return d, nil
}

func newRunsCmd() *cobra.Command {
	var (
		sf       storeFlags
		workflow string
		status   string
		since    string
		limit    int
		cursor   string
		output   string
	)
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List the runs a shared store keeps, newest first (id, workflow, status, started, duration, failed node)",
		Long: `List the runs a shared store keeps, newest first: id, workflow, version,
status, when it started, how long it took (or has been running) and, for a
failed run, the node that failed. Below the table: how many runs match, by
status, and the --cursor of the next page when there is one.

Ended runs are kept for --retention (7 days by default, set by the workers).
The memory store keeps runs only inside the process that ran them, so runs
needs a shared store.

--output json prints one object: {"runs": [...], "next": CURSOR, "counts": {STATUS: N}}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			st, err := service.ParseStatus(status)
			if err != nil {
				return exit(2, fmt.Errorf("--%w", err))
			}
			d, err := parseSince(since)
			if err != nil {
				return err
			}
			if limit < 1 || limit > service.MaxLimit {
				return exit(2, fmt.Errorf("--limit %d: want 1 to %d", limit, service.MaxLimit))
			}
			ctx, svc, done, err := sf.lookup(cmd, "runs", true)
			if err != nil {
				return err
			}
			defer done()
			list, err := svc.List(ctx, service.ListRequest{Workflow: workflow, Status: st, Since: d, Limit: limit,
				Cursor: cursor, Counts: true})
			if err != nil {
				return svcErr(err)
			}
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), list)
			}
			printRuns(cmd.OutOrStdout(), list, time.Now())
			return nil
		},
	}
	sf.register(cmd, true)
	sf.hideWorkerFlags(cmd, "lease", "max-deliveries", "retention", "allow-eviction")
	cmd.Flags().StringVar(&workflow, "workflow", "", "only runs of this workflow (its name:)")
	cmd.Flags().StringVar(&status, "status", "", "only runs with this status: pending, running, succeeded, failed or cancelled")
	cmd.Flags().StringVar(&since, "since", "", "only runs started less than this long ago (30m, 1h, 7d)")
	cmd.Flags().IntVar(&limit, "limit", 20, fmt.Sprintf("at most this many runs (1 to %d)", service.MaxLimit))
	cmd.Flags().StringVar(&cursor, "cursor", "", "start after the last page (the cursor printed below it)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

// printRuns prints a run list as a table with its counts below.
func printRuns(w io.Writer, list *service.RunList, now time.Time) {
	if len(list.Runs) == 0 {
		fmt.Fprintln(w, "no runs match")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tWORKFLOW\tVERSION\tSTATUS\tSTARTED\tDURATION\tFAILED NODE")
		for _, r := range list.Runs {
			dur := "-"
			switch {
			case r.Duration != nil:
				dur = fmtDur(time.Duration(*r.Duration * float64(time.Second)))
			case !r.Status.Done():
				dur = fmtDur(now.Sub(r.Created)) + "…"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Workflow, dash(r.Version), r.Status,
				r.Created.Local().Format("2006-01-02 15:04:05"), dur, dash(r.FailedNode))
		}
		_ = tw.Flush()
	}
	if list.Counts != nil {
		fmt.Fprintln(w, countsLine(list.Counts))
	}
	if list.Next != "" {
		fmt.Fprintf(w, "more: --cursor %s\n", list.Next)
	}
}

// countsLine says how many runs match, by status.
func countsLine(counts map[store.Status]int) string {
	total := 0
	var parts []string
	for _, st := range []store.Status{store.Running, store.Pending, store.Succeeded, store.Failed, store.Cancelled} {
		if n := counts[st]; n > 0 {
			total += n
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	if total == 0 {
		return "0 runs"
	}
	return fmt.Sprintf("%d run%s: %s", total, plural(total), strings.Join(parts, ", "))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
