package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store"
)

func newLogsCmd() *cobra.Command {
	var (
		sf     storeFlags
		node   string
		follow bool
		output string
	)
	cmd := &cobra.Command{
		Use:   "logs RUN_ID",
		Short: "Print a run's log lines and its shell steps' output tails; --follow waits for more until it ends",
		Long: `Print a run's log lines, in order: the lines of its log steps and the tail of
each shell step's stdout and stderr (also of a step that failed), whichever
worker ran them. --node keeps one node's lines; --follow waits for new lines
until the run ends (Ctrl-C stops following and leaves the run alone).

Each text line reads TIME LEVEL NODE[FRAME] MESSAGE (the level of a shell
tail is its stream, stdout or stderr). --output json prints one JSON object
per line (JSON Lines), the journal's log events: {"seq", "time", "type":
"log", "node", "frame", "level" or "stream", "message"}.

The memory store keeps runs only inside the process that ran them, so logs
needs a shared store. An unknown run or node exits 2.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			ctx, svc, done, err := sf.lookup(cmd, "logs", true)
			if err != nil {
				return err
			}
			defer done()
			out := cmd.OutOrStdout()
			enc := json.NewEncoder(out)
			err = svc.Logs(ctx, args[0], service.LogsRequest{Node: node, Follow: follow}, func(ev *store.Event) error {
				if output == "json" {
					return enc.Encode(ev)
				}
				printLog(out, ev)
				return nil
			})
			if err != nil {
				return runNotFound(args[0], err)
			}
			return nil
		},
	}
	sf.register(cmd, true)
	sf.hideWorkerFlags(cmd, "lease", "max-deliveries", "retention", "allow-eviction")
	cmd.Flags().StringVar(&node, "node", "", "only this node's lines (a node id of the run's workflow)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "wait for new lines until the run ends")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json (JSON Lines)")
	return cmd
}

// printLog prints a log event as text; every line of a multi-line
// message (a shell tail) carries the same prefix, so grep keeps them.
func printLog(w io.Writer, ev *store.Event) {
	prefix := fmt.Sprintf("%s %-6s %s", ev.Time.Local().Format("15:04:05.000"), strings.ToUpper(dash(logLevel(ev))),
		dash(nodeAt(ev.Node, ev.Frame)))
	msg := strings.TrimRight(ev.Message, "\n")
	if ev.Truncated {
		msg += " [truncated]"
	}
	for line := range strings.SplitSeq(msg, "\n") {
		fmt.Fprintf(w, "%s  %s\n", prefix, line)
	}
}

// logLevel is a log event's level, or the stream of a shell output tail.
func logLevel(ev *store.Event) string {
	if ev.Stream != "" {
		return ev.Stream
	}
	return ev.Level
}
