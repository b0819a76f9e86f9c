// Package skript is the Go API of the Skript workflow engine: compile a
// YAML workflow into a Blueprint, register your own typed actions, and run
// Blueprints in this process or across workers on Redis.
//
//	eng, _ := skript.New()                      // embedded memory store, in-process workers
//	defer eng.Close()
//	skript.Register(eng, "charge", charge)     // a typed Go function; params checked at compile time
//	bp, _ := eng.Compile("flow.yaml", src)     // every mistake, with line and column
//	run, _ := eng.Start(ctx, bp, map[string]any{"order_id": "A-1"})
//	res, _ := run.Wait(ctx)
package skript

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/dsl"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store"
	// The drivers register their URL schemes with store.Open.
	_ "github.com/skript-dev/skript/store/memory"
	_ "github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/telemetry"
)

// Blueprint is a compiled workflow.
type Blueprint = blueprint.Blueprint

// Result is a finished (or running) run's state.
type Result = runtime.Result

// Run is a handle on a started run.
type Run = runtime.Run

// Compile compiles a workflow with the built-in actions. The error, when not
// nil, is a dsl.ErrorList holding every problem found, each formatted as
// FILE:LINE:COL: message.
func Compile(file string, src []byte) (*Blueprint, error) {
	bp, errs := compiler.Compile(file, src, compiler.Options{})
	if len(errs) > 0 {
		return nil, errs
	}
	return bp, nil
}

// Engine compiles and runs workflows. It owns a store and, unless
// WithWorkers(0), worker loops that execute tasks in this process.
type Engine struct {
	rt       *runtime.Engine
	reg      *action.Registry
	st       store.Store
	cfg      config
	mu       sync.Mutex
	started  bool
	stopWork context.CancelFunc
	workDone chan struct{}
	svc      *service.Service
}

type config struct {
	storeURL    string
	st          store.Store
	retention   time.Duration
	workers     int
	concurrency int
	logger      *slog.Logger
	deny        []string
	builtins    action.BuiltinOptions
	observer    func(runtime.Event)
	tel         *telemetry.Telemetry
	storeOpts   store.Options
}

// storeOptions are the options New opens its store with: the ones given
// WithStoreOptions, then WithRetention's and WithLogger's.
func (c *config) storeOptions() store.Options {
	o := c.storeOpts
	if c.retention > 0 {
		o.Retention = c.retention
	}
	if o.Logger == nil {
		o.Logger = c.logger
	}
	return o
}

// Option configures an Engine.
type Option func(*config)

// WithStoreURL selects the store: "memory" (the default) or
// "redis://[user:pass@]host:port/db" ("rediss://" for TLS), or any scheme
// a driver registered with store.Register.
func WithStoreURL(url string) Option { return func(c *config) { c.storeURL = url } }

// WithRetention sets how long ended runs are kept, in the memory store or
// on Redis (default store.DefaultRetention, 7 days, the same for both and
// the same as the CLI's); 0 leaves the default. It does not apply to a
// store given WithStore.
func WithRetention(d time.Duration) Option { return func(c *config) { c.retention = d } }

// WithStoreOptions tunes the store New opens from WithStoreURL (lease,
// deliveries, journal limits...; see store.Options, whose zero fields are
// the defaults every store and the CLI share). WithRetention, when given,
// overrides its Retention. It does not apply to a store given WithStore.
func WithStoreOptions(o store.Options) Option { return func(c *config) { c.storeOpts = o } }

// WithStore uses an already opened store driver.
func WithStore(s store.Store) Option { return func(c *config) { c.st = s } }

// WithWorkers sets how many worker loops run in this process (default 1;
// 0 leaves the work to `skript worker` processes on a shared store). New
// refuses 0 with the default memory store, which no other process can
// reach: its runs would never move.
func WithWorkers(n int) Option { return func(c *config) { c.workers = n } }

// WithConcurrency sets how many tasks each worker loop runs at once.
func WithConcurrency(n int) Option { return func(c *config) { c.concurrency = n } }

// WithLogger receives engine messages and the runs' `log` lines.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithDeniedActions makes built-in actions unavailable (for example
// "shell" on workers that must not run commands): workflows using them do
// not compile, and this engine's workers hand tasks of them, from runs
// started elsewhere on a shared store, back for a worker that allows them.
// New refuses a name that is no built-in action.
func WithDeniedActions(names ...string) Option {
	return func(c *config) { c.deny = append(c.deny, names...) }
}

// WithShellEnv passes these worker environment variables to shell
// commands, which otherwise see only a minimal environment (see
// action.ShellOptions.PassEnv; a name ending in '*' is a prefix).
func WithShellEnv(names ...string) Option {
	return func(c *config) { c.builtins.Shell.PassEnv = append(c.builtins.Shell.PassEnv, names...) }
}

// WithHTTPDenyPrivate makes the http actions refuse loopback, private,
// link-local, unspecified and multicast addresses (see
// action.HTTPOptions.DenyPrivate), for engines that run workflows of
// authors who must not reach the host's own network.
func WithHTTPDenyPrivate() Option { return func(c *config) { c.builtins.HTTP.DenyPrivate = true } }

// WithObserver receives progress events of the nodes run in this process:
// Running as a node starts, Succeeded, Failed or Cancelled as it ends, and
// an event with an empty Node as a run ends here. runtime.WithObserver
// says exactly which events arrive. fn must not block.
func WithObserver(fn func(runtime.Event)) Option { return func(c *config) { c.observer = fn } }

// WithTelemetry traces the engine's runs and steps and counts them in
// Prometheus metrics (see package telemetry and docs/observability.md):
// telemetry.FromEnv configures traces from the OTEL_* variables, as the
// CLI does. A run started with a span in its ctx joins that span's trace
// whether or not the engine has telemetry.
func WithTelemetry(t *telemetry.Telemetry) Option { return func(c *config) { c.tel = t } }

// New returns an Engine.
func New(opts ...Option) (*Engine, error) {
	cfg := config{workers: 1}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.retention < 0 {
		return nil, fmt.Errorf("WithRetention(%s): want 0 or more", cfg.retention)
	}
	if cfg.workers < 0 {
		return nil, fmt.Errorf("WithWorkers(%d): want 0 or more", cfg.workers)
	}
	if err := action.CheckDenied(action.Builtins(), cfg.deny, dsl.Hint); err != nil {
		return nil, fmt.Errorf("WithDeniedActions: %w", err)
	}
	if err := action.CheckEnvNames(cfg.builtins.Shell.PassEnv); err != nil {
		return nil, fmt.Errorf("WithShellEnv: %w", err)
	}
	st := cfg.st
	if st == nil {
		if cfg.workers == 0 && (cfg.storeURL == "" || store.SchemeOf(cfg.storeURL) == "memory") {
			return nil, errors.New("WithWorkers(0): a memory store needs in-process workers (WithWorkers(1) or more), " +
				"since no other process can reach it; use a Redis store to leave the work to `skript worker` processes")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		if st, err = store.Open(ctx, cfg.storeURL, cfg.storeOptions()); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	reg := action.BuiltinsWith(cfg.builtins)
	reg.Remove(cfg.deny...)
	rtOpts := []runtime.Option{runtime.WithStore(st), runtime.WithRegistry(reg), runtime.WithDeniedActions(cfg.deny...)}
	if cfg.logger != nil {
		rtOpts = append(rtOpts, runtime.WithLogger(cfg.logger))
	}
	if cfg.observer != nil {
		rtOpts = append(rtOpts, runtime.WithObserver(cfg.observer))
	}
	if cfg.tel != nil {
		rtOpts = append(rtOpts, runtime.WithTelemetry(cfg.tel))
	}
	rt := runtime.New(rtOpts...)
	svc, err := service.New(service.Config{Engine: rt, Denied: cfg.deny})
	if err != nil {
		return nil, err
	}
	return &Engine{rt: rt, reg: reg, st: st, cfg: cfg, svc: svc}, nil
}

// Service returns the engine's service layer: submit with an idempotency
// key, list runs, read their events and logs, replay them, and the rest
// the CLI and the HTTP API offer, over the engine's store and actions.
// It starts the engine's workers, as Start does, so the runs submitted
// through it move.
func (e *Engine) Service() *service.Service {
	e.startWorkers()
	return e.svc
}

// Register adds a host action to the engine. Its parameter schema comes from
// P (a struct; `json` tags name the params, `skript:"required"` marks required
// ones), so workflows using it are checked at compile time like built-ins.
func Register[P any](e *Engine, name string, fn func(ctx context.Context, p P) (any, error)) error {
	if e == nil {
		return fmt.Errorf("register %q: no Engine (nil)", name)
	}
	return action.Register(e.reg, name, fn)
}

// Compile compiles a workflow against the engine's actions.
func (e *Engine) Compile(file string, src []byte) (*Blueprint, error) {
	bp, errs := compiler.Compile(file, src, compiler.Options{Registry: e.reg, Denied: e.cfg.deny})
	if len(errs) > 0 {
		return nil, errs
	}
	return bp, nil
}

// Start starts a run. The first call also starts the engine's workers.
func (e *Engine) Start(ctx context.Context, bp *Blueprint, inputs map[string]any) (*Run, error) {
	if bp == nil {
		return nil, errors.New("start: no Blueprint (nil)")
	}
	e.startWorkers()
	return e.rt.Start(ctx, bp, inputs)
}

// Wait blocks until the run with this id ends (or ctx is done) and returns
// its result, like Run.Wait, for a run started by any process on the same
// store (`skript submit`, another service). It starts the engine's workers
// if Start has not, so the run can be worked on here. An unknown id gives
// an error wrapping store.ErrNotFound.
func (e *Engine) Wait(ctx context.Context, id string) (*Result, error) {
	e.startWorkers()
	return e.rt.Wait(ctx, id)
}

// Cancel ends the run with this id as cancelled, like Run.Cancel, for a run
// started by any process on the same store. reason becomes the run's error
// message ("cancelled" when empty). The actions running for the run, in any
// worker, see their context cancelled. A run that has already ended is left
// as it is, without an error (Result tells how it ended); an unknown id
// gives an error wrapping store.ErrNotFound.
func (e *Engine) Cancel(ctx context.Context, id, reason string) error {
	return e.rt.Cancel(ctx, id, reason)
}

// Result reads a run's state by id.
func (e *Engine) Result(ctx context.Context, id string) (*Result, error) {
	return e.rt.Result(ctx, id)
}

func (e *Engine) startWorkers() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started || e.cfg.workers <= 0 {
		return
	}
	e.started = true
	ctx, cancel := context.WithCancel(context.Background())
	e.stopWork = cancel
	e.workDone = make(chan struct{})
	n := e.cfg.workers
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = e.rt.Work(ctx, runtime.WorkerOptions{Concurrency: e.cfg.concurrency, Grace: 5 * time.Second})
		}()
	}
	go func() {
		wg.Wait()
		close(e.workDone)
	}()
}

// Close stops the engine's workers (running tasks get a short grace period)
// and closes the store.
func (e *Engine) Close() error {
	e.mu.Lock()
	stop, done := e.stopWork, e.workDone
	e.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	return e.st.Close()
}
