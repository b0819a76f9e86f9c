package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
)

// Config says what to benchmark and how.
type Config struct {
	// Store holds the runs; StoreName is how the result names it.
	Store     store.Store
	StoreName string
	// Fanout is the number of noop Actions per workflow (default 2000).
	Fanout int
	// Duration is how long the best setting is held and measured
	// (default 10s).
	Duration time.Duration
	// Trial is how long each setting is measured while tuning (default 1s).
	Trial time.Duration
	// Start is the first setting tried, Max the largest (defaults: 1
	// workflow at concurrency 64; 256 workflows, concurrency 16384).
	Start, Max Setting
	// Threshold is the smallest relative gain that counts (default 0.05).
	Threshold float64
	// Fixed skips the tuning and holds Start.
	Fixed bool
	// Baseline measures a goroutine per task joined by a WaitGroup, in
	// rounds of Fanout, right before the hold (done for the memory store,
	// where both run in this process).
	Baseline bool
	// Commands, when set, returns how many commands the store's server has
	// run so far; the hold phase reports the difference per task.
	Commands func(context.Context) (int64, error)
	// CommandsKind names what Commands counts in the report ("redis
	// commands" when empty; "sql statements" on a SQL store).
	CommandsKind string
	// Progress, when set, is called a few times a second.
	Progress func(Progress)
}

func (c *Config) defaults() {
	if c.Fanout <= 0 {
		c.Fanout = 2000
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Trial <= 0 {
		c.Trial = time.Second
	}
	if c.Start.Workflows <= 0 {
		c.Start.Workflows = 1
	}
	if c.Start.Concurrency <= 0 {
		c.Start.Concurrency = 64
	}
	if c.Max.Workflows <= 0 {
		c.Max.Workflows = 256
	}
	if c.Max.Concurrency <= 0 {
		c.Max.Concurrency = 16384
	}
	if c.Threshold <= 0 {
		c.Threshold = 0.05
	}
	if c.StoreName == "" {
		c.StoreName = "memory"
	}
}

// Progress reports what the benchmark is doing.
type Progress struct {
	// Phase is "tuning" (or "warm-up" with a fixed setting), "baseline"
	// or "hold".
	Phase   string
	Setting Setting
	// Trial counts the settings measured so far while tuning.
	Trial int
	// Elapsed and Total time the current phase (Total is 0 when open).
	Elapsed, Total time.Duration
	// Tasks done in the current measurement, and the rate so far.
	Tasks       int64
	TasksPerSec float64
}

// Result is what `skript bench` prints. Durations are in the unit their
// name says; the JSON names are part of the command's interface.
type Result struct {
	Store       string  `json:"store"`
	Fanout      int     `json:"fanout"`
	Workflows   int     `json:"workflows"`
	Concurrency int     `json:"concurrency"`
	Tasks       int64   `json:"tasks"`
	Seconds     float64 `json:"seconds"`
	TasksPerSec float64 `json:"tasks_per_sec"`
	NsPerTask   float64 `json:"ns_per_task"`
	// SchedP50us and SchedP99us are quantiles of the time from when a task
	// became ready (store.Task.Enqueued) to when a worker started it.
	SchedP50us    float64 `json:"sched_p50_us"`
	SchedP99us    float64 `json:"sched_p99_us"`
	AllocsPerTask float64 `json:"allocs_per_task"`
	PeakRSSMB     float64 `json:"peak_rss_mb"`
	// BaselineNsPerTask and Ratio (NsPerTask / BaselineNsPerTask) are set
	// when the baseline was measured.
	BaselineNsPerTask *float64 `json:"baseline_ns_per_task,omitempty"`
	Ratio             *float64 `json:"ratio,omitempty"`
	// BaselineSchedP50us and BaselineSchedP99us, set with the baseline, are
	// the same latency quantiles for Go's own scheduler: from the start of
	// a round of goroutines (when its Fanout tasks are all ready) to when
	// each goroutine starts, with as many rounds in flight as workflows.
	// They are the floor the load itself puts under SchedP50us and
	// SchedP99us on this machine.
	BaselineSchedP50us *float64 `json:"baseline_sched_p50_us,omitempty"`
	BaselineSchedP99us *float64 `json:"baseline_sched_p99_us,omitempty"`
	// CommandsPerTask is set when Config.Commands is.
	CommandsPerTask *float64 `json:"commands_per_task,omitempty"`
	// CommandsKind is Config.CommandsKind.
	CommandsKind string  `json:"commands_kind,omitempty"`
	GOMAXPROCS   int     `json:"gomaxprocs"`
	Trials       []Trial `json:"trials"`
}

// Run tunes the load, then holds the best setting for cfg.Duration and
// measures it.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.defaults()
	if cfg.Store == nil {
		return nil, errors.New("bench: no store")
	}
	bp, err := Compile(cfg.Fanout)
	if err != nil {
		return nil, fmt.Errorf("bench: compile: %w", err)
	}
	b := &bencher{cfg: cfg, bp: bp}
	b.eng = runtime.New(runtime.WithStore(cfg.Store))

	res := &Result{Store: cfg.StoreName, Fanout: cfg.Fanout, GOMAXPROCS: goruntime.GOMAXPROCS(0)}
	best := cfg.Start
	if !cfg.Fixed {
		t := NewTuner(cfg.Start, cfg.Max, cfg.Threshold, 0)
		for n := 1; ; n++ {
			s, ok := t.Next()
			if !ok {
				break
			}
			m, err := b.measure(ctx, s, cfg.Trial, func(p Progress) {
				p.Phase, p.Trial = "tuning", n
				b.progress(p)
			})
			if err != nil {
				return nil, err
			}
			t.Report(s, m.tasksPerSec())
		}
		best, _ = t.Best()
		res.Trials = t.Trials()
	}
	res.Workflows, res.Concurrency = best.Workflows, best.Concurrency
	if cfg.Fixed {
		// Without tuning to warm it up, the process would start the hold
		// cold (heap, goroutines, caches): warm up at the setting first.
		if _, err := b.measure(ctx, best, min(cfg.Trial, cfg.Duration), func(p Progress) {
			p.Phase = "warm-up"
			b.progress(p)
		}); err != nil {
			return nil, err
		}
	}

	// Each measured phase starts from a collected heap, so neither pays
	// for the garbage of the one before.
	if cfg.Baseline {
		b.progress(Progress{Phase: "baseline", Setting: best})
		goruntime.GC()
		ns := Baseline(cfg.Fanout, min(cfg.Trial, 2*time.Second))
		res.BaselineNsPerTask = &ns
		goruntime.GC()
		p50, p99 := BaselineLatency(cfg.Fanout, best.Workflows, min(cfg.Trial, time.Second))
		p50us, p99us := float64(p50)/1e3, float64(p99)/1e3
		res.BaselineSchedP50us, res.BaselineSchedP99us = &p50us, &p99us
	}
	goruntime.GC()

	var before, after goruntime.MemStats
	var cmdsBefore int64
	if cfg.Commands != nil {
		if cmdsBefore, err = cfg.Commands(ctx); err != nil {
			return nil, fmt.Errorf("bench: count commands: %w", err)
		}
	}
	b.hist.reset()
	goruntime.ReadMemStats(&before)
	m, err := b.measure(ctx, best, cfg.Duration, func(p Progress) {
		p.Phase = "hold"
		b.progress(p)
	})
	if err != nil {
		return nil, err
	}
	goruntime.ReadMemStats(&after)
	if cfg.Commands != nil {
		n, err := cfg.Commands(ctx)
		if err != nil {
			return nil, fmt.Errorf("bench: count commands: %w", err)
		}
		// The two readings count themselves once.
		per := float64(n-cmdsBefore-1) / float64(max(m.tasks, 1))
		res.CommandsPerTask = &per
		res.CommandsKind = cfg.CommandsKind
	}
	res.Tasks = m.tasks
	res.Seconds = m.elapsed.Seconds()
	res.TasksPerSec = m.tasksPerSec()
	if m.tasks > 0 {
		res.NsPerTask = float64(m.elapsed.Nanoseconds()) / float64(m.tasks)
		res.AllocsPerTask = float64(after.Mallocs-before.Mallocs) / float64(m.tasks)
	}
	res.SchedP50us = float64(b.hist.quantile(0.50)) / 1e3
	res.SchedP99us = float64(b.hist.quantile(0.99)) / 1e3
	res.PeakRSSMB = PeakRSSMB()
	if res.BaselineNsPerTask != nil && *res.BaselineNsPerTask > 0 {
		r := res.NsPerTask / *res.BaselineNsPerTask
		res.Ratio = &r
	}
	return res, nil
}

type bencher struct {
	cfg  Config
	bp   *blueprint.Blueprint
	eng  *runtime.Engine
	hist histogram
}

func (b *bencher) progress(p Progress) {
	if b.cfg.Progress != nil {
		b.cfg.Progress(p)
	}
}

// onStart records the scheduling latency of Action tasks (not of the
// Resume that ends each run: it is control flow, not an Action).
func (b *bencher) onStart(t *store.Task, started time.Time) {
	if t.Kind == store.Exec && !t.Enqueued.IsZero() {
		b.hist.add(started.Sub(t.Enqueued))
	}
}

type measurement struct {
	tasks   int64
	elapsed time.Duration
}

func (m measurement) tasksPerSec() float64 {
	if m.elapsed <= 0 {
		return 0
	}
	return float64(m.tasks) / m.elapsed.Seconds()
}

// measure runs setting s for about d: a worker with s.Concurrency, and
// s.Workflows loops that each start a run and wait for its end, again and
// again until d has passed. Runs started before then are waited for, so
// every task counted was done inside the measured time, ramp-up and tail
// included. The worker is stopped before measure returns, so settings do
// not overlap.
func (b *bencher) measure(ctx context.Context, s Setting, d time.Duration, progress func(Progress)) (measurement, error) {
	wctx, stopWork := context.WithCancel(ctx)
	workDone := make(chan struct{})
	go func() {
		defer close(workDone)
		_ = b.eng.Work(wctx, runtime.WorkerOptions{Concurrency: s.Concurrency, Grace: 5 * time.Second,
			OnStart: b.onStart, OnError: func(error) {}})
	}()
	defer func() {
		stopWork()
		<-workDone
	}()

	st := b.eng.Store()
	var runs atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	errs := make(chan error, s.Workflows)
	var wg sync.WaitGroup
	for range s.Workflows {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				run, err := b.eng.Start(ctx, b.bp, nil)
				if err != nil {
					errs <- fmt.Errorf("bench: start: %w", err)
					return
				}
				// The run's header, not run.Wait's full Result: reading
				// every record back is not the scheduler's work.
				hdr, err := st.WaitRun(ctx, run.ID)
				if err != nil {
					errs <- fmt.Errorf("bench: wait: %w", err)
					return
				}
				if hdr.Status != store.Succeeded {
					msg := string(hdr.Status)
					if hdr.Error != nil {
						msg += ": " + hdr.Error.Message
					}
					errs <- fmt.Errorf("bench: run %s %s", hdr.ID, msg)
					return
				}
				runs.Add(1)
			}
		})
	}
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	progress(Progress{Setting: s, Total: d})
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	fanout := int64(b.cfg.Fanout)
	for {
		select {
		case <-finished:
			m := measurement{tasks: runs.Load() * fanout, elapsed: time.Since(start)}
			close(errs)
			if err := <-errs; err != nil {
				return m, err
			}
			if err := ctx.Err(); err != nil {
				return m, err
			}
			return m, nil
		case <-tick.C:
			el := time.Since(start)
			tasks := runs.Load() * fanout
			progress(Progress{Setting: s, Elapsed: el, Total: d, Tasks: tasks,
				TasksPerSec: float64(tasks) / el.Seconds()})
		}
	}
}

// Baseline returns the cost, in ns per task, of the simplest way to run n
// tasks at once in Go: one goroutine each, joined by a sync.WaitGroup, in
// rounds of n, for about d.
//
// A quarter of d (at most 250ms) goes first, unmeasured: the first rounds
// in a process allocate goroutines and their stacks and cost twice as much
// as the steady state, which is what Skript's figures are compared with.
func Baseline(n int, d time.Duration) float64 {
	n = max(n, 1)
	var sink atomic.Int64
	round := func() {
		var wg sync.WaitGroup
		wg.Add(n)
		for range n {
			go func() {
				defer wg.Done()
				noop(&sink)
			}()
		}
		wg.Wait()
	}
	for warm := time.Now(); time.Since(warm) < min(d/4, 250*time.Millisecond); {
		round()
	}
	start := time.Now()
	tasks := 0
	for tasks == 0 || time.Since(start) < d {
		round()
		tasks += n
	}
	return float64(time.Since(start).Nanoseconds()) / float64(tasks)
}

// BaselineLatency returns the p50 and p99 scheduling latency of Go's own
// scheduler under the benchmark's load: rounds goroutines each start n
// goroutines at once and wait for them with a sync.WaitGroup, again and
// again for about d; a task's latency is from the start of its round (when
// all n are ready, as a fan-out's tasks are when its transition is
// applied) to when its goroutine starts running. It is measured apart from
// Baseline because reading the clock twice per task would add to the cost
// that Baseline measures.
func BaselineLatency(n, rounds int, d time.Duration) (p50, p99 time.Duration) {
	n, rounds = max(n, 1), max(rounds, 1)
	h := new(histogram)
	loop := func(until time.Time, record bool) {
		var wg sync.WaitGroup
		for range rounds {
			wg.Go(func() {
				for first := true; first || time.Now().Before(until); first = false {
					var round sync.WaitGroup
					round.Add(n)
					ready := time.Now()
					for range n {
						go func() {
							if record {
								h.add(time.Since(ready))
							}
							round.Done()
						}()
					}
					round.Wait()
				}
			})
		}
		wg.Wait()
	}
	loop(time.Now().Add(min(d/4, 250*time.Millisecond)), false)
	loop(time.Now().Add(d), true)
	return h.quantile(0.50), h.quantile(0.99)
}

// noop is the baseline's task; the compiler must not remove the call.
//
//go:noinline
func noop(*atomic.Int64) {}

// PeakRSSMB returns the process's peak resident set size (VmHWM) in MiB,
// or 0 where /proc is not available.
func PeakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseFloat(f[0], 64)
				if err == nil {
					return kb / 1024
				}
			}
		}
	}
	return 0
}
