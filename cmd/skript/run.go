package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/value"
)

// inputFlags collect --input k=v and --input-file.
type inputFlags struct {
	pairs []string
	file  string
}

func (f *inputFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.pairs, "input", nil, "an input as name=value (value parsed as JSON unless the input is a string); repeatable")
	cmd.Flags().StringVar(&f.file, "input-file", "", "a JSON file holding an object of inputs (at most 10 MiB)")
}

// maxInputFile bounds --input-file: the inputs are stored with the run and
// read by every task, and a device such as /dev/zero never ends.
const maxInputFile = 10 << 20

// readInputFile reads at most maxInputFile bytes of path.
func readInputFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, maxInputFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxInputFile {
		return nil, fmt.Errorf("%s is over the %d-byte (10 MiB) limit of --input-file", path, maxInputFile)
	}
	return data, nil
}

func (f *inputFlags) parse(bp *blueprint.Blueprint) (map[string]any, error) {
	in := map[string]any{}
	if f.file != "" {
		data, err := readInputFile(f.file)
		if err != nil {
			return nil, exit(2, fmt.Errorf("--input-file: %w", err))
		}
		if in, err = runtime.ParseInputs(data); err != nil {
			return nil, exit(2, fmt.Errorf("--input-file %s: want a JSON object: %w", f.file, err))
		}
	}
	for _, p := range f.pairs {
		name, text, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return nil, exit(2, fmt.Errorf("--input %q: want name=value", p))
		}
		in[name] = runtime.ParseInput(bp, name, text)
	}
	return in, nil
}

// compileWithInputs compiles the workflow at path and parses the inputs
// given for it on the command line.
func compileWithInputs(cmd *cobra.Command, cf *compileFlags, inf *inputFlags, path string) (*action.Registry, *blueprint.Blueprint, map[string]any, error) {
	reg := cf.registry()
	bp, err := cf.compileFile(path, reg, cmd.ErrOrStderr())
	if err != nil {
		return nil, nil, nil, err
	}
	inputs, err := inf.parse(bp)
	if err != nil {
		return nil, nil, nil, err
	}
	return reg, bp, inputs, nil
}

// keyFlag adds --idempotency-key to a command that starts a run.
func keyFlag(cmd *cobra.Command, key *string) {
	cmd.Flags().StringVar(key, "idempotency-key", "",
		"start the run only if no kept run holds this key; otherwise use that run (the same workflow's, else exit 2)")
}

func newRunCmd() *cobra.Command {
	var (
		cf          compileFlags
		sf          storeFlags
		inf         inputFlags
		output      string
		workers     int
		concurrency int
		key         string
		tf          telemetryFlags
	)
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Compile and run a workflow to the end, showing live progress",
		Long: `Compile and run a workflow to the end.

Exit codes: 0 the run succeeded, 1 it failed, 2 the workflow or the command
line is invalid, 130 interrupted (the run is cancelled).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return exit(2, fmt.Errorf("--output %q: want text or json", output))
			}
			if workers < 0 {
				return exit(2, fmt.Errorf("--workers %d: want 0 or more", workers))
			}
			if workers == 0 && sf.isMemory() {
				// Nothing outside this process can reach a memory store, so
				// the run would never move.
				return exit(2, errors.New("--workers 0 needs a shared store: with the memory store no other process can run the tasks; "+
					"give --store redis://... or leave --workers at 1 or more"))
			}
			reg, bp, inputs, err := compileWithInputs(cmd, &cf, &inf, args[0])
			if err != nil {
				return err
			}
			if _, err := runtime.CheckInputs(bp, inputs); err != nil {
				return exit(2, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			st, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer func() { _ = st.Close() }()

			stderr := cmd.ErrOrStderr()
			v := newView(stderr, isTerminal(stderr))
			v.depth = loopDepths(bp)
			logger := slog.New(&viewHandler{v: v, level: slog.LevelDebug})
			if tf.logFormat != "text" {
				if logger, err = tf.logger(stderr); err != nil {
					return err
				}
			}
			tel, stopTel, err := tf.start(ctx, logger)
			if err != nil {
				return err
			}
			defer stopTel()
			eng := runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg), runtime.WithLogger(logger), runtime.WithObserver(v.event),
				runtime.WithDeniedActions(cf.deny...), runtime.WithTelemetry(tel))
			svc, err := engineService(eng, cf.deny)
			if err != nil {
				return err
			}
			return runAndReport(withParentTrace(ctx), cmd, svc, service.SubmitRequest{Blueprint: bp, Inputs: inputs, Key: key}, v, output, workers, concurrency, sf)
		},
	}
	cf.register(cmd)
	cf.registerHost(cmd)
	sf.register(cmd, false)
	inf.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	cmd.Flags().IntVar(&workers, "workers", 1, "in-process worker loops (0: leave the work to separate skript worker processes; needs a shared store)")
	cmd.Flags().IntVar(&concurrency, "concurrency", 1024, "tasks each in-process worker runs at once")
	keyFlag(cmd, &key)
	tf.register(cmd)
	return cmd
}

func runAndReport(ctx context.Context, cmd *cobra.Command, svc *service.Service, req service.SubmitRequest,
	v *view, output string, workers, concurrency int, sf storeFlags) error {
	eng := svc.Engine()
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	workDone := make(chan struct{})
	go func() {
		defer close(workDone)
		if workers <= 0 {
			return
		}
		done := make(chan struct{}, workers)
		for range workers {
			go func() {
				_ = eng.Work(workCtx, runtime.WorkerOptions{Concurrency: concurrency, Heartbeat: sf.lease / 3, Grace: 2 * time.Second})
				done <- struct{}{}
			}()
		}
		for range workers {
			<-done
		}
	}()
	defer func() {
		stopWork()
		<-workDone
	}()

	sub, err := svc.Submit(ctx, req)
	if err != nil {
		return svcErr(err)
	}
	id := sub.Run.ID
	if sub.Existing {
		fmt.Fprintf(cmd.ErrOrStderr(), "run %s holds this idempotency key: showing it, nothing new started\n", id)
	}
	lv := startLive(v, eng.Store(), id)

	interrupted := false
	res, err := eng.Wait(ctx, id)
	if err != nil && ctx.Err() != nil {
		// Ctrl-C: cancel the run and report it as it ends.
		interrupted = true
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = eng.Cancel(cctx, id, "")
		res, err = eng.Wait(cctx, id)
	}
	lv.stop(false)
	if err != nil {
		return exit(1, err)
	}
	if err := report(cmd.OutOrStdout(), res, output); err != nil {
		return exit(1, err)
	}
	switch {
	case interrupted:
		return exit(130, nil)
	case res.Status == store.Succeeded:
		return nil
	default:
		return exit(1, nil)
	}
}

// report prints a run's result as text or as one JSON object.
func report(w io.Writer, res *runtime.Result, output string) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	took := ""
	if res.Ended != nil {
		took = " in " + fmtDur(res.Ended.Sub(res.Created))
	}
	name := res.Workflow
	if res.Version != "" {
		name += " version " + res.Version
	}
	fmt.Fprintf(w, "run %s (%s) %s%s\n", res.RunID, name, res.Status, took)
	if res.RetryOf != "" {
		fmt.Fprintf(w, "retry of run %s\n", res.RetryOf)
	}
	if res.Error != nil {
		if res.Error.Node != "" {
			fmt.Fprintf(w, "error in %s: %s\n", res.Error.Node, res.Error.Message)
		} else {
			fmt.Fprintf(w, "error: %s\n", res.Error.Message)
		}
	}
	if res.Output != nil {
		data, err := json.MarshalIndent(value.Export(res.Output), "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "output: %s\n", data)
	}
	return nil
}

// listNodes prints one line per node of a result, in the order they started.
func listNodes(w io.Writer, res *runtime.Result) {
	for _, id := range res.SortedNodeIDs() {
		n := res.Nodes[id]
		line := fmt.Sprintf("  %-28s %-10s", id, n.Status)
		if n.Attempts > 1 {
			line += fmt.Sprintf(" attempt %d", n.Attempts)
		}
		if n.Started != nil && n.Finished != nil {
			line += " " + fmtDur(n.Finished.Sub(*n.Started))
		}
		if n.Error != nil && n.Status == store.Failed {
			line += "  " + n.Error.Message
		}
		fmt.Fprintln(w, line)
	}
}
