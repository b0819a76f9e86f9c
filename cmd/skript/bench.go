package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/skript-dev/skript/bench"
	"github.com/skript-dev/skript/store/postgres"
	"github.com/skript-dev/skript/store/redis"
)

func newBenchCmd() *cobra.Command {
	var (
		sf          storeFlags
		fanout      int
		duration    time.Duration
		trial       time.Duration
		workflows   int
		concurrency int
		output      string
		cpuprofile  string
		memprofile  string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the scheduler: auto-tune the load of no-op fan-outs, then hold the best",
		Long: `Measure the scheduler's throughput and latency.

Each workflow is a Loop over 0..FANOUT-1 (no concurrency limit) whose body is
one noop Action, compiled by the real compiler. The benchmark doubles the
number of workflows in flight, then the worker concurrency, while throughput
improves by more than 5%, then holds the best setting for --duration and
reports tasks/s, ns/task, scheduling latency (ready to started), allocations
per task and peak RSS. On the memory store it also measures, right before,
a goroutine per task joined by a sync.WaitGroup, as a baseline: its cost
per task and its scheduling latency under the same load.

With --workflows and --concurrency both given, the tuning is skipped. See
bench/README.md for what each figure means.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return exit(2, fmt.Errorf("--output %q: want text or json", output))
			}
			if fanout < 1 {
				return exit(2, fmt.Errorf("--fanout %d: want at least 1", fanout))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if !cmd.Flags().Changed("retention") {
				// A benchmark run is worth nothing once it has been waited
				// for; in memory, keeping them all would make the heap, and
				// the collector's work, grow for as long as the benchmark runs.
				sf.retention = 10 * time.Minute
				if sf.isMemory() {
					sf.retention = 100 * time.Millisecond
				}
			}
			st, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer func() { _ = st.Close() }()
			cfg := bench.Config{Store: st, StoreName: "memory", Fanout: fanout, Duration: duration, Trial: trial,
				Start:    bench.Setting{Workflows: workflows, Concurrency: concurrency},
				Fixed:    cmd.Flags().Changed("workflows") && cmd.Flags().Changed("concurrency"),
				Baseline: sf.isMemory()}
			if counted, ok := st.(interface{ Statements() int64 }); ok {
				cfg.StoreName = postgres.RedactURL(sf.url)
				// Counted in this process, which sends every statement;
				// a reading counts itself once, as INFO does on Redis.
				var readings atomic.Int64
				cfg.Commands = func(context.Context) (int64, error) { return counted.Statements() + readings.Add(1), nil }
				cfg.CommandsKind = "sql statements"
			} else if !sf.isMemory() {
				cfg.StoreName = redis.RedactURL(sf.url)
				count, closeCounter, err := bench.CommandCounter(sf.url)
				if err != nil {
					return exit(2, fmt.Errorf("--store: %w", err))
				}
				defer closeCounter()
				cfg.Commands = count
			}
			stderr := cmd.ErrOrStderr()
			var bar *progressBar
			if isTerminal(stderr) {
				bar = &progressBar{w: stderr}
				cfg.Progress = bar.show
			}
			stopProfiles, err := startProfiles(cpuprofile, memprofile)
			if err != nil {
				return exit(2, err)
			}
			res, err := bench.Run(ctx, cfg)
			if perr := stopProfiles(); perr != nil && err == nil {
				err = perr
			}
			if bar != nil {
				bar.clear()
			}
			if err != nil {
				if ctx.Err() != nil {
					return exit(130, nil)
				}
				return exit(1, err)
			}
			if output == "json" {
				return res.WriteJSON(cmd.OutOrStdout())
			}
			return res.WriteText(cmd.OutOrStdout())
		},
	}
	sf.register(cmd, false)
	// The benchmark's own default (see RunE) replaces the store's one.
	ret := cmd.Flags().Lookup("retention")
	ret.Usage = "how long ended runs are kept"
	ret.DefValue = "10m on Redis, 100ms in memory"
	cmd.Flags().IntVar(&fanout, "fanout", 2000, "noop Actions per workflow")
	cmd.Flags().DurationVar(&duration, "duration", 10*time.Second, "how long the best setting is held and measured")
	cmd.Flags().DurationVar(&trial, "trial", time.Second, "how long each setting is measured while tuning")
	cmd.Flags().IntVar(&workflows, "workflows", 1, "workflows in flight to start tuning from (with --concurrency: no tuning)")
	cmd.Flags().IntVar(&concurrency, "concurrency", 64, "worker concurrency to start tuning from (with --workflows: no tuning)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	cmd.Flags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the whole benchmark to this file (go tool pprof)")
	cmd.Flags().StringVar(&memprofile, "memprofile", "", "write an allocation profile to this file at the end")
	return cmd
}

// startProfiles starts the profiles asked for; the function it returns
// stops them and writes the files.
func startProfiles(cpu, mem string) (func() error, error) {
	var cpuFile *os.File
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		cpuFile = f
	}
	return func() error {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			if err := cpuFile.Close(); err != nil {
				return err
			}
		}
		if mem != "" {
			f, err := os.Create(mem)
			if err != nil {
				return fmt.Errorf("--memprofile: %w", err)
			}
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				_ = f.Close()
				return fmt.Errorf("--memprofile: %w", err)
			}
			return f.Close()
		}
		return nil
	}, nil
}

// progressBar draws one line on a terminal, redrawn in place.
type progressBar struct {
	w     io.Writer
	width int
}

func (b *progressBar) show(p bench.Progress) {
	const cells = 24
	filled := 0
	if p.Total > 0 {
		filled = min(int(float64(cells)*p.Elapsed.Seconds()/p.Total.Seconds()), cells)
	}
	label := p.Phase
	if p.Phase == "tuning" {
		label = fmt.Sprintf("tuning #%d", p.Trial)
	}
	line := fmt.Sprintf("%-10s [%s%s] workflows %d, concurrency %d: %.0f tasks/s", label,
		strings.Repeat("#", filled), strings.Repeat("-", cells-filled), p.Setting.Workflows, p.Setting.Concurrency, p.TasksPerSec)
	if p.Phase == "baseline" {
		line = "baseline   a goroutine per task, joined by a WaitGroup..."
	}
	pad := max(b.width-len(line), 0)
	fmt.Fprintf(b.w, "\r%s%s", line, strings.Repeat(" ", pad))
	b.width = len(line)
}

func (b *progressBar) clear() {
	if b.width > 0 {
		fmt.Fprintf(b.w, "\r%s\r", strings.Repeat(" ", b.width))
	}
}
