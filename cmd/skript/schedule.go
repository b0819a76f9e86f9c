package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/skript-dev/skript/schedule"
	"github.com/skript-dev/skript/service"
)

func newScheduleCmd() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Start workflows on cron schedules kept in a shared store (fired by skript serve)",
		Long: `Register, list, pause and delete schedules in a shared store. Every
skript serve on that store fires their ticks, each tick once (docs/schedules.md).`,
	}
	manager := func(cmd *cobra.Command) (*schedule.Manager, func(), error) {
		if err := sf.requireShared("schedule"); err != nil {
			return nil, nil, err
		}
		st, err := sf.open(cmd.Context())
		if err != nil {
			return nil, nil, err
		}
		svc, err := service.New(service.Config{Store: st, Denied: httpDeniedByDefault})
		if err != nil {
			_ = st.Close()
			return nil, nil, exit(1, err)
		}
		m, err := schedule.New(svc, schedule.Options{})
		if err != nil {
			_ = st.Close()
			return nil, nil, svcErr(err)
		}
		return m, func() { _ = st.Close() }, nil
	}

	var spec schedule.Spec
	var inputs string
	add := &cobra.Command{
		Use:   "add NAME FILE --cron EXPR",
		Short: "Add a schedule (or replace the one with this name)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := os.ReadFile(args[1])
			if err != nil {
				return exit(2, err)
			}
			m, done, err := manager(cmd)
			if err != nil {
				return err
			}
			defer done()
			spec.Name, spec.File, spec.Source = args[0], args[1], string(src)
			if inputs != "" {
				spec.Inputs = json.RawMessage(inputs)
			}
			info, err := m.Add(cmd.Context(), spec)
			if err != nil {
				return svcErr(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: next run %s\n", info.Name, next(info))
			return nil
		},
	}
	add.Flags().StringVar(&spec.Cron, "cron", "", "five fields (minute hour day-of-month month day-of-week) or @hourly, @daily...")
	add.Flags().StringVar(&spec.TimeZone, "tz", "UTC", "IANA time zone of the cron expression")
	add.Flags().StringVar((*string)(&spec.Overlap), "overlap", "skip", "a tick while the previous run runs: skip, allow or cancel")
	add.Flags().StringVar((*string)(&spec.CatchUp), "catch-up", "one", "ticks missed while no server ran: none, one or all")
	add.Flags().StringVar(&inputs, "inputs", "", "the runs' inputs, a JSON object")
	add.Flags().BoolVar(&spec.Paused, "paused", false, "add it paused")
	_ = add.MarkFlagRequired("cron")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the schedules",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, done, err := manager(cmd)
			if err != nil {
				return err
			}
			defer done()
			all, err := m.List(cmd.Context())
			if err != nil {
				return svcErr(err)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCRON\tZONE\tWORKFLOW\tOVERLAP\tCATCH-UP\tNEXT\tLAST RUN")
			for _, s := range all {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Cron, s.TimeZone, s.Workflow, s.Overlap, s.CatchUp, next(s), s.LastRun)
			}
			return tw.Flush()
		},
	}
	pause := func(use string, paused bool) *cobra.Command {
		return &cobra.Command{
			Use:   use + " NAME",
			Short: map[bool]string{true: "Pause a schedule", false: "Resume a paused schedule from its next tick"}[paused],
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				m, done, err := manager(cmd)
				if err != nil {
					return err
				}
				defer done()
				info, err := m.Pause(cmd.Context(), args[0], paused)
				if err != nil {
					return svcErr(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: next run %s\n", info.Name, next(info))
				return nil
			},
		}
	}
	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a schedule (its runs are kept)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, done, err := manager(cmd)
			if err != nil {
				return err
			}
			defer done()
			return svcErr(m.Delete(cmd.Context(), args[0]))
		},
	}
	for _, sub := range []*cobra.Command{add, list, pause("pause", true), pause("resume", false), del} {
		sf.register(sub, true)
		sf.hideWorkerFlags(sub, "lease", "max-deliveries", "retention")
		cmd.AddCommand(sub)
	}
	return cmd
}

func next(s *schedule.Info) string {
	switch {
	case s.Paused:
		return "paused"
	case s.Next == nil:
		return "never"
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	return s.Next.In(loc).Format("2006-01-02 15:04 MST")
}
