package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/skript-dev/skript/store"
)

func newRetryCmd() *cobra.Command {
	var (
		sf     storeFlags
		from   string
		wait   bool
		output string
	)
	cmd := &cobra.Command{
		Use:   "retry RUN_ID",
		Short: "Start a new run, linked to an ended one, that keeps what it completed and runs from the failed node (or --from NODE)",
		Long: `Start a new run of an ended run's workflow (the same Blueprint, even if the
file changed since) with the same inputs, linked to it by retry_of. It keeps
the recorded outcomes of what the earlier run completed and runs the rest:
the failed node and what follows it, in a loop only the iterations that did
not complete, in a Parallel only the branches. --from NODE runs NODE and
every node after it again, even where they had completed. docs/retry.md
gives the exact rules, and what happens to Waits and side effects.

Prints the new run's id; skript worker processes run it. With --wait, waits
for it to end and reports it as status does (exit codes as run).

Refused with exit code 2: an unknown run, a run still running (cancel it or
wait for it), a succeeded run without --from, a NODE the workflow does not
have (with the closest ids suggested) or one a run cannot restart from. The
memory store keeps runs only inside the process that ran them, so retry
needs a shared store.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			ctx, svc, done, err := sf.lookup(cmd, "retry", false)
			if err != nil {
				return err
			}
			defer done()
			run, err := svc.Retry(ctx, args[0], from)
			if err != nil {
				return runNotFound(args[0], err)
			}
			if !wait {
				fmt.Fprintln(cmd.OutOrStdout(), run.ID)
				return nil
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "run %s retries %s\n", run.ID, args[0])
			res, err := svc.Wait(ctx, run.ID)
			if err != nil {
				return svcErr(err)
			}
			if err := report(cmd.OutOrStdout(), res, output); err != nil {
				return exit(1, err)
			}
			if output == "text" {
				listNodes(cmd.OutOrStdout(), res)
			}
			if res.Status != store.Succeeded {
				return exit(1, nil)
			}
			return nil
		},
	}
	sf.register(cmd, true)
	sf.hideWorkerFlags(cmd, "lease", "max-deliveries", "allow-eviction")
	cmd.Flags().StringVar(&from, "from", "", "run this node and every node after it again, even where they had completed")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the new run to end and report it (exit codes as run)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json (with --wait)")
	return cmd
}
