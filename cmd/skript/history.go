package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/value"
)

func newHistoryCmd() *cobra.Command {
	var (
		sf     storeFlags
		at     int64
		output string
	)
	cmd := &cobra.Command{
		Use:   "history RUN_ID",
		Short: "Show a run's timeline of events; --at SEQ: its records right after event SEQ (time travel)",
		Long: `Show a run's journal: every event in order, numbered from 1 (SEQ), with its
time: the run created, each step started, succeeded or failed (with its
attempt, worker, duration, output or error), retries scheduled, waits, log
lines, and the run's end.

--at SEQ rebuilds the run's node records as they were right after event SEQ
by replaying the journal, to see what a run knew at any point.

--output json prints one object: {"run_id", "events": [...]}, or with --at
{"run_id", "at", "event", "last", "records": [...]}.

The memory store keeps runs only inside the process that ran them, so
history needs a shared store. An unknown run, or a SEQ outside the journal,
exits 2.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if cmd.Flags().Changed("at") && at < 1 {
				return exit(2, fmt.Errorf("--at %d: want an event number, 1 or more", at))
			}
			ctx, svc, done, err := sf.lookup(cmd, "history", true)
			if err != nil {
				return err
			}
			defer done()
			id, out := args[0], cmd.OutOrStdout()
			if at > 0 {
				snap, err := svc.RecordsAt(ctx, id, at)
				if err != nil {
					return runNotFound(id, err)
				}
				if output == "json" {
					return writeJSON(out, snap)
				}
				what := ""
				if snap.Event != nil {
					what = " (" + strings.TrimSpace(string(snap.Event.Type)+" "+snap.Event.Node) + ")"
				}
				fmt.Fprintf(out, "run %s right after event %d of %d%s:\n", id, snap.At, snap.Last, what)
				printRecords(out, snap.Records)
				return nil
			}
			evs, err := svc.History(ctx, id)
			if err != nil {
				return runNotFound(id, err)
			}
			if output == "json" {
				return writeJSON(out, struct {
					RunID  string         `json:"run_id"`
					Events []*store.Event `json:"events"`
				}{id, evs})
			}
			printEvents(out, evs)
			return nil
		},
	}
	sf.register(cmd, true)
	sf.hideWorkerFlags(cmd, "lease", "max-deliveries", "retention", "allow-eviction")
	cmd.Flags().Int64Var(&at, "at", 0, "show the run's records right after this event (its SEQ)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

// printEvents prints a journal as a timeline.
func printEvents(w io.Writer, evs []*store.Event) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tEVENT\tNODE\tDETAIL")
	for _, ev := range evs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", ev.Seq, ev.Time.Local().Format("15:04:05.000"), ev.Type, dash(nodeAt(ev.Node, ev.Frame)),
			eventDetail(ev))
	}
	_ = tw.Flush()
}

// eventDetail is the one-line rest of a timeline entry.
func eventDetail(ev *store.Event) string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	switch {
	case ev.Run != nil:
		name := ev.Run.Workflow
		if ev.Run.Version != "" {
			name += " version " + ev.Run.Version
		}
		add("%s", name)
		if ev.Run.RetryOf != "" {
			add("retry of %s", ev.Run.RetryOf)
		}
		if ev.Run.Parent != "" {
			add("child of %s", ev.Run.Parent)
		}
		if len(ev.Run.Inputs) > 0 {
			add("inputs %s", short(ev.Run.Inputs))
		}
	case ev.End != nil:
		if ev.End.Error != nil {
			add("%s: %s", ev.End.Status, errText(ev.End.Error))
		} else {
			add("%s", ev.End.Status)
		}
		if ev.End.Output != nil {
			add("output %s", short(ev.End.Output))
		}
	case ev.Record != nil:
		r := ev.Record
		if ev.Attempt > 1 || r.Attempts > 1 {
			add("attempt %d", max(ev.Attempt, r.Attempts))
		}
		if ev.Worker != "" {
			add("worker %s", ev.Worker)
		}
		if !r.Started.IsZero() && !r.Finished.IsZero() {
			add("%s", fmtDur(r.Finished.Sub(r.Started)))
		}
		if r.Error != nil && r.Status != store.Succeeded {
			add("error: %s", r.Error.Message)
		} else if r.Output != nil && r.Status == store.Succeeded {
			add("output %s", short(r.Output))
		}
	}
	if !ev.At.IsZero() {
		add("at %s", ev.At.Local().Format("15:04:05.000"))
	}
	if ev.Type == store.EventLog || ev.Type == store.EventTruncated {
		msg := strings.ReplaceAll(strings.TrimRight(ev.Message, "\n"), "\n", "⏎")
		add("%s", strings.TrimSpace(logLevel(ev)+" "+clip(msg)))
	}
	if ev.Truncated {
		add("[truncated]")
	}
	return strings.Join(parts, ", ")
}

func errText(e *store.ErrorInfo) string {
	if e.Node != "" {
		return "in " + e.Node + ": " + e.Message
	}
	return e.Message
}

// short is a value as compact JSON, clipped for a table cell.
func short(v any) string {
	data, err := json.Marshal(value.Export(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return clip(string(data))
}

func clip(s string) string {
	const most = 80
	if r := []rune(s); len(r) > most {
		return string(r[:most-1]) + "…"
	}
	return s
}

// printRecords prints node records as `skript status` prints nodes.
func printRecords(w io.Writer, recs []*store.Record) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSTATUS\tATTEMPTS\tOUTPUT OR ERROR")
	for _, r := range recs {
		detail := ""
		switch {
		case r.Error != nil:
			detail = "error: " + r.Error.Message
		case r.Output != nil:
			detail = short(r.Output)
		}
		attempts := "-"
		if r.Attempts > 0 {
			attempts = strconv.Itoa(r.Attempts)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", nodeAt(r.Key, r.Frame), r.Status, attempts, detail)
	}
	_ = tw.Flush()
}
