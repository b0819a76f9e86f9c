package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store"
)

func newWorkerCmd() *cobra.Command {
	var (
		sf          storeFlags
		concurrency int
		grace       time.Duration
		cf          compileFlags
		tf          telemetryFlags
	)
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run tasks from a shared store until SIGTERM (stateless; start as many as you like)",
		Long: `Run tasks from a shared store. Workers are stateless: start any number, on
any machines. On SIGTERM or Ctrl-C a worker stops leasing, lets running tasks
finish for up to --grace, hands back the rest, and exits 0.

A worker started before Redis is reachable (or while a Cluster is still
forming) waits for it, trying again with backoff up to 5s and logging each
attempt; errors no retry mends (a bad URL, a refused password, an evicting
maxmemory-policy) exit 2 at once. The other commands (run, submit, status,
cancel, runs, logs, history, retry) do not wait: they fail within 10s with
exit code 2.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := sf.requireShared("worker"); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			logger, err := tf.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			tel, stopTel, err := tf.start(ctx, logger)
			if err != nil {
				return err
			}
			defer stopTel()
			st, err := sf.openRetrying(ctx, logger)
			if err != nil {
				if ctx.Err() != nil {
					// Stopped while waiting for Redis: nothing was leased,
					// so this is a clean stop.
					return nil
				}
				return err
			}
			defer func() { _ = st.Close() }()
			eng := runtime.New(runtime.WithStore(st), runtime.WithRegistry(cf.registry()), runtime.WithLogger(logger),
				runtime.WithDeniedActions(cf.deny...), runtime.WithTelemetry(tel))
			maxDeliveries := sf.maxDeliveries
			if maxDeliveries <= 0 {
				maxDeliveries = store.DefaultMaxDeliveries
			}
			logger.Info("worker started", "concurrency", concurrency, "lease", sf.lease, "max_deliveries", maxDeliveries)
			err = eng.Work(ctx, runtime.WorkerOptions{Concurrency: concurrency, Heartbeat: sf.lease / 3, Grace: grace})
			logger.Info("worker stopped")
			return err
		},
	}
	sf.register(cmd, true)
	cmd.Flags().IntVar(&concurrency, "concurrency", 256, "tasks run at once")
	cmd.Flags().DurationVar(&grace, "grace", 30*time.Second, "on SIGTERM, how long running tasks may finish before they are handed back (then how long more completions the store refuses are retried)")
	cf.registerDeny(cmd, "refuse to run these actions (e.g. shell): their tasks are handed back, after a pause, for a worker that allows them; repeatable")
	cf.registerHost(cmd)
	tf.register(cmd)
	return cmd
}

func newSubmitCmd() *cobra.Command {
	var (
		cf  compileFlags
		sf  storeFlags
		inf inputFlags
		key string
	)
	cmd := &cobra.Command{
		Use:   "submit FILE",
		Short: "Start a run on a shared store and print its id",
		Long: `Start a run on a shared store and print its id; skript worker processes run it.

With --idempotency-key, a second submit with the same key (while the first
run is kept) prints the first run's id and starts nothing: a client that
lost the answer can submit again safely. The same key with another
workflow is refused with exit code 2.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := sf.requireShared("submit"); err != nil {
				return err
			}
			reg, bp, inputs, err := compileWithInputs(cmd, &cf, &inf, args[0])
			if err != nil {
				return err
			}
			st, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer func() { _ = st.Close() }()
			svc, err := engineService(runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg)), cf.deny)
			if err != nil {
				return err
			}
			sub, err := svc.Submit(withParentTrace(cmd.Context()), service.SubmitRequest{Blueprint: bp, Inputs: inputs, Key: key})
			if err != nil {
				return svcErr(err)
			}
			if sub.Existing {
				fmt.Fprintf(cmd.ErrOrStderr(), "run %s holds this idempotency key: nothing new started\n", sub.Run.ID)
			}
			fmt.Fprintln(cmd.OutOrStdout(), sub.Run.ID)
			return nil
		},
	}
	cf.register(cmd)
	sf.register(cmd, true)
	inf.register(cmd)
	keyFlag(cmd, &key)
	return cmd
}

func newStatusCmd() *cobra.Command {
	var (
		sf     storeFlags
		wait   bool
		output string
	)
	cmd := &cobra.Command{
		Use:   "status RUN_ID",
		Short: "Show a run's state; --wait blocks until it ends (exit codes as run)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := sf.requireShared("status"); err != nil {
				return err
			}
			sf.readOnly = true
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			st, err := sf.open(ctx)
			if err != nil {
				return err
			}
			svc, err := service.New(service.Config{Store: st})
			if err != nil {
				return exit(1, err)
			}
			defer func() { _ = svc.Close() }()
			if wait {
				// On a terminal the run's nodes show live on stderr while it
				// goes on; the block is cleared at the end, since the nodes
				// are then printed on stdout.
				v := newView(cmd.ErrOrStderr(), isTerminal(cmd.ErrOrStderr()))
				if v.tty {
					v.depth = runDepths(ctx, st, args[0])
				}
				lv := startLive(v, st, args[0])
				_, err := st.WaitRun(ctx, args[0])
				lv.stop(true)
				if err != nil {
					if ctx.Err() != nil {
						return exit(130, nil)
					}
					return runNotFound(args[0], err)
				}
			}
			res, err := svc.Result(ctx, args[0])
			if err != nil {
				return runNotFound(args[0], err)
			}
			if err := report(cmd.OutOrStdout(), res, output); err != nil {
				return exit(1, err)
			}
			if output == "text" {
				listNodes(cmd.OutOrStdout(), res)
			}
			switch res.Status {
			case store.Succeeded:
				return nil
			case store.Failed, store.Cancelled:
				return exit(1, nil)
			}
			if wait {
				return exit(1, nil)
			}
			return nil
		},
	}
	sf.register(cmd, true)
	// status opens the store read-only, which skips the eviction check.
	sf.hideWorkerFlags(cmd, "lease", "max-deliveries", "retention", "allow-eviction")
	cmd.Flags().BoolVar(&wait, "wait", false, "block until the run ends")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

func newCancelCmd() *cobra.Command {
	var (
		sf     storeFlags
		reason string
	)
	cmd := &cobra.Command{
		Use:   "cancel RUN_ID",
		Short: "Cancel a run on a shared store; its running actions see their context cancelled",
		Long: `Cancel a run on a shared store: it ends as cancelled, with --reason as its
error, and the workers running its actions cancel their context. Exits 0 and
says so when the run was cancelled, and also when it had already ended
(cancelling changes nothing then; the line says how it ended); 2 for an
unknown run.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := sf.requireShared("cancel"); err != nil {
				return err
			}
			id := args[0]
			ctx := cmd.Context()
			st, err := sf.open(ctx)
			if err != nil {
				return err
			}
			// With OTEL_* set, the canceller ends the run's span.
			tel, stopTel, err := tracesFromEnv(ctx)
			if err != nil {
				return err
			}
			defer stopTel()
			svc, err := service.New(service.Config{Store: st, Engine: runtime.New(runtime.WithStore(st), runtime.WithTelemetry(tel))})
			if err != nil {
				return exit(1, err)
			}
			defer func() { _ = svc.Close() }()
			c, err := svc.Cancel(ctx, id, reason)
			if err != nil {
				return runNotFound(id, err)
			}
			if c.Cancelled {
				fmt.Fprintf(cmd.OutOrStdout(), "run %s cancelled\n", id)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "run %s had already ended: %s\n", id, c.Run.Status)
			}
			return nil
		},
	}
	sf.register(cmd, true)
	sf.hideWorkerFlags(cmd, "lease", "max-deliveries")
	cmd.Flags().StringVar(&reason, "reason", "cancelled", "the run's error message")
	return cmd
}
