package main

import (
	"os"

	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "skript",
		Short: "Skript compiles YAML workflows into Blueprints and runs them, in memory or across workers on Redis",
		Long: `Skript compiles YAML workflows into flat, validated Blueprints and runs them:
in this process on an embedded in-memory store, or across any number of
stateless workers on Redis.

  skript run flow.yaml                 run a workflow here, no server needed
  skript validate flow.yaml            check a workflow, every error at once
  skript compile flow.yaml             show the compiled Blueprint
  skript worker --store redis://...    work on runs from a shared store
  skript runs --store redis://...      list the runs kept, newest first
  skript logs RUN_ID --follow          a run's log lines and shell output
  skript history RUN_ID [--at SEQ]     a run's events; its records at any point
  skript retry RUN_ID [--from NODE]    run a failed run again from where it failed`,
		Version:       versionText(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(os.Stdout)
	root.SetErr(os.Stderr)
	root.AddCommand(newRunCmd(), newValidateCmd(), newCompileCmd(), newSchemaCmd(),
		newWorkerCmd(), newSubmitCmd(), newStatusCmd(), newCancelCmd(), newRunsCmd(), newLogsCmd(), newHistoryCmd(), newRetryCmd(),
		newBenchCmd(), newActionsCmd(), newServeCmd(), newScheduleCmd())
	return root
}
