// Package runtime executes Blueprints: the VM that turns a completed task
// into a transition, and the worker loop that leases tasks from a store,
// runs their actions and applies the transitions.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
	"github.com/skript-dev/skript/telemetry"
)

// Engine runs workflows on a store. One Engine can start runs, work on
// tasks, or both.
type Engine struct {
	store    store.Store
	registry *action.Registry
	logger   *slog.Logger
	observer func(Event)
	programs programCache
	runs     sync.Map // run id -> *runInfo
	deny     denyState
	// nruns counts the entries of runs, roughly; maxRuns bounds them (0:
	// defaultMaxRuns). Entries go as their runs end, but the store's end
	// notifications may be dropped when a worker falls behind, and an
	// entry holds the run's inputs.
	nruns   atomic.Int64
	maxRuns int64
	// tel is nil without telemetry; raw is the store as given when store
	// is wrapped to be measured.
	tel *telemetry.Telemetry
	raw store.Store
}

// defaultMaxRuns is how many run headers a worker keeps: far more runs than
// it works on at once.
const defaultMaxRuns = 16384

// Option configures an Engine.
type Option func(*Engine)

// WithStore sets the store (default: a new in-memory store).
func WithStore(s store.Store) Option { return func(e *Engine) { e.store = s } }

// WithRegistry sets the actions available to workers (default: the built-ins).
func WithRegistry(r *action.Registry) Option { return func(e *Engine) { e.registry = r } }

// WithLogger sets the logger for engine messages and the runs' `log` lines.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.logger = l } }

// WithObserver receives an Event for every node that starts or finishes in
// this process (for live progress views). It must not block, and it is
// called from several goroutines at once.
//
// The events, all for what this process does (another worker on a shared
// store reports to its own observer):
//
//   - Running, as an Action starts an attempt (its Attempt counts from 1),
//     and as a node holding others (a Parallel or a Loop, for example) or
//     a Wait is entered;
//   - Succeeded or Failed, for an Action as its step ends (the steps of a
//     fused task, run back to back, each end at their own Time, before the
//     task's transition is applied), and for other nodes as a transition
//     that finishes them is applied (an attempt that fails and will be
//     retried gets no event of its own: the next attempt's Running
//     follows);
//   - Cancelled, for an Action that was running in this process when its
//     run ended, by Run.Cancel or Engine.Cancel from any process or by
//     another node failing the run: its context is cancelled and the event
//     comes as its action returns. No final event comes for nodes holding
//     others or Waits still open when a run ends, for a quick Inline step
//     (set, noop) that finished just as its run ended, nor for a step of a
//     task handed back by a stopping worker (it runs again);
//   - one run-level event, with an empty Node and the run's Status, when a
//     transition applied in this process ends the run (succeeded, or failed
//     by a node). A run ended by a cancel gets none: Wait tells.
func WithObserver(fn func(Event)) Option { return func(e *Engine) { e.observer = fn } }

// Event reports progress of one node, or with an empty Node the end of a
// run (see WithObserver).
type Event struct {
	Run     string
	Node    string
	Frame   string
	Status  store.Status
	Attempt int
	// Started is when the node started (on finish events).
	Started time.Time
	Time    time.Time
	Error   string
}

// New returns an Engine.
func New(opts ...Option) *Engine {
	e := &Engine{}
	for _, o := range opts {
		o(e)
	}
	if e.store == nil {
		e.store = memory.New()
	}
	if e.registry == nil {
		e.registry = action.Builtins()
	}
	if e.logger == nil {
		e.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e.programs.reg = e.registry
	e.programs.local = e.store.Capabilities().Local
	e.instrument()
	return e
}

// Store returns the engine's store.
func (e *Engine) Store() store.Store {
	if e.raw != nil {
		return e.raw
	}
	return e.store
}

// Registry returns the engine's action registry.
func (e *Engine) Registry() *action.Registry { return e.registry }

func (e *Engine) observe(ev Event) {
	if e.observer != nil {
		e.observer(ev)
	}
}

// NewRunID returns a new run id: a UUIDv7 (RFC 9562), whose first 48 bits
// are the time in milliseconds and the rest random, so ids sort by when
// their runs were started (a run list reads newest first from an index in
// id order) and never collide across workers.
func NewRunID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// Only a failing system random source gets here.
		return uuid.NewString()
	}
	return id.String()
}

// Start checks the inputs, stores the Blueprint and creates a run whose first
// tasks are queued. Workers (Engine.Work, or `skript worker` processes on a
// shared store) execute it.
func (e *Engine) Start(ctx context.Context, bp *blueprint.Blueprint, inputs map[string]any) (*Run, error) {
	return e.StartWith(ctx, bp, inputs, StartOptions{})
}

// StartOptions are a run's optional settings.
type StartOptions struct {
	// Key is an idempotency key: a store refuses a second run with the
	// same key, with an error wrapping a *store.RunExistsError that names
	// the first (errors.Is(err, store.ErrRunExists)).
	Key string
}

// StartWith is Start with options.
func (e *Engine) StartWith(ctx context.Context, bp *blueprint.Blueprint, inputs map[string]any, o StartOptions) (*Run, error) {
	if bp == nil {
		return nil, errors.New("start: no Blueprint (nil)")
	}
	in, err := CheckInputs(bp, inputs)
	if err != nil {
		return nil, err
	}
	if bp.Hash == "" {
		if err := blueprint.Seal(bp); err != nil {
			return nil, err
		}
	}
	if err := e.checkFinishing(bp); err != nil {
		return nil, err
	}
	p, err := e.programs.lookupOrBuild(bp)
	if err != nil {
		return nil, err
	}
	data, err := p.encoded()
	if err != nil {
		return nil, err
	}
	if err := e.store.PutBlueprint(ctx, bp.Hash, data); err != nil {
		return nil, fmt.Errorf("store blueprint: %w", err)
	}
	hdr := &store.Run{ID: NewRunID(), Workflow: bp.Name, Version: bp.Version, Hash: bp.Hash, Inputs: in, Status: store.Running, Created: time.Now(),
		Key: o.Key}
	e.traceRun(ctx, hdr)
	return e.createRun(ctx, p, hdr, nil)
}

// createRun computes a new run's first transition (the root token
// advanced to its first tasks, after the kept records of a retry) and
// stores the run with it.
func (e *Engine) createRun(ctx context.Context, p *program, hdr *store.Run, kept []*store.Record) (*Run, error) {
	hdr.Finally = finallyTask(p.bp, hdr)
	info := newRunInfo(hdr)
	// A retry's first transition is computed before the run is stored:
	// what it has not written itself does not exist yet.
	info.unstored = hdr.RetryOf != ""
	v := newVM(ctx, e.store, p, info, nil)
	for _, r := range kept {
		v.record(*r)
	}
	v.setToken("t", 0)
	if err := v.advance(token{id: "t"}, nil); err != nil {
		return nil, err
	}
	if e.observer != nil {
		// Composite nodes entered before the first task show from the start.
		e.observeTransition(hdr.ID, v.tr)
	}
	if err := e.store.CreateRun(ctx, hdr, v.tr); err != nil {
		return nil, fmt.Errorf("create run: %w", err)
	}
	e.started(ctx, info, v.tr)
	return &Run{ID: hdr.ID, engine: e}, nil
}

func (c *programCache) lookupOrBuild(bp *blueprint.Blueprint) (*program, error) {
	if p := c.cached(bp.Hash); p != nil {
		return p, nil
	}
	p, err := newProgram(bp)
	if err != nil {
		return nil, err
	}
	// Start stores the encoding anyway; made now, it sizes the program.
	data, err := p.encoded()
	if err != nil {
		return nil, err
	}
	p.size = int64(len(data))
	return c.put(p), nil
}

// Run is a handle on a started run.
type Run struct {
	ID     string
	engine *Engine
}

// Wait blocks until the run ends and returns its result.
func (r *Run) Wait(ctx context.Context) (*Result, error) {
	return r.engine.Wait(ctx, r.ID)
}

// Cancel cancels the run; running actions see their context cancelled.
func (r *Run) Cancel(ctx context.Context) error {
	return r.engine.Cancel(ctx, r.ID, "")
}

// Wait blocks until the run with this id ends (or ctx is done) and returns
// its result. The run may have been started by any process using the same
// store. An unknown id gives an error wrapping store.ErrNotFound.
func (e *Engine) Wait(ctx context.Context, id string) (*Result, error) {
	if _, err := e.store.WaitRun(ctx, id); err != nil {
		return nil, err
	}
	return e.Result(ctx, id)
}

// Cancel ends the run with this id as cancelled, with reason as its error
// message ("cancelled" when empty); the actions running for it, in any
// worker, see their context cancelled. A run that has already ended is
// left as it is, without an error. An unknown id gives an error wrapping
// store.ErrNotFound.
func (e *Engine) Cancel(ctx context.Context, id, reason string) error {
	if reason == "" {
		reason = "cancelled"
	}
	info := e.cancelling(ctx, id)
	if err := e.store.Cancel(ctx, id, reason); err != nil {
		return err
	}
	e.cancelled(ctx, info, reason)
	return nil
}

// runInfo returns the cached header of a run.
func (e *Engine) runInfo(ctx context.Context, id string) (*runInfo, error) {
	if v, ok := e.runs.Load(id); ok {
		return v.(*runInfo), nil
	}
	hdr, err := e.store.GetRun(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		return nil, &storeError{err}
	}
	info := newRunInfo(hdr)
	if v, loaded := e.runs.LoadOrStore(id, info); loaded {
		return v.(*runInfo), nil
	}
	limit := e.maxRuns
	if limit <= 0 {
		limit = defaultMaxRuns
	}
	if e.nruns.Add(1) > limit {
		// Dropping every header is crude but cheap and rare: the runs
		// still going read theirs again, once each.
		e.runs.Clear()
		e.nruns.Store(0)
	}
	return info, nil
}

// handle computes the transition for one leased task, fetching what it
// needs (the program, the run's header) from the store. A nil transition
// means the task is to be acknowledged only.
func (e *Engine) handle(ctx context.Context, task *store.Task) (*store.Transition, error) {
	p, err := e.programs.get(ctx, e.store, task.Hash)
	if err != nil {
		return nil, err
	}
	info, err := e.runInfo(ctx, task.Run)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if store.IsPermanent(err) {
			return nil, &unreadableRun{err}
		}
		return nil, err
	}
	return e.compute(ctx, p, info, task, nil, time.Time{})
}

// compute runs a task of program p and run info and returns its
// transition. rs, when not nil, is the state a runner goroutine keeps
// between the short tasks it runs, and now is when the task started
// (otherwise compute reads the clock).
func (e *Engine) compute(ctx context.Context, p *program, info *runInfo, task *store.Task, rs *runnerState, now time.Time) (tr *store.Transition, err error) {
	// A bug in the VM fails the task's run ("internal error"), not the
	// worker process and every other run on it.
	defer func() {
		if r := recover(); r != nil {
			tr, err = nil, fmt.Errorf("internal error at pc %d: %v", task.PC, r)
		}
	}()
	return e.computeTask(ctx, p, info, task, rs, now)
}

func (e *Engine) computeTask(ctx context.Context, p *program, info *runInfo, task *store.Task, rs *runnerState, now time.Time) (*store.Transition, error) {
	if task.PC < 0 || int(task.PC) >= len(p.bp.Code) {
		return nil, fmt.Errorf("task pc %d out of range", task.PC)
	}
	var v *vm
	if rs != nil {
		v = &rs.vm
		v.reset(ctx, e.store, p, info, task, now)
	} else {
		v = newVM(ctx, e.store, p, info, task)
	}
	t := token{id: task.Token, seq: task.Seq, pc: task.PC, frame: task.Frame, group: task.Group, slot: task.Slot}
	var err error
	switch task.Kind {
	case store.Exec:
		err = e.execTask(ctx, v, task, rs)
	case store.Timer:
		in := &p.bp.Code[task.PC]
		if in.Op != blueprint.OpWait {
			return nil, fmt.Errorf("timer at pc %d is %v, not Wait", task.PC, in.Op)
		}
		key := v.nodeKey(t.frame, in.Node)
		v.waitFired(key)
		v.record(store.Record{RecordKey: key, Status: store.Succeeded, Finished: v.now})
		t.pc++
		err = v.advance(t, nil)
	case store.Resume:
		var last any
		if task.Last != nil {
			recs, rerr := v.readRecords([]store.RecordKey{*task.Last})
			if rerr != nil {
				return nil, rerr
			}
			if r := recs[0]; r != nil {
				last = r.Output
				// The group's node (a Parallel or a Loop) has finished,
				// unless a Collect, a Check or a Won is still to tell how.
				if op := p.bp.Code[task.PC].Op; op != blueprint.OpCollect && op != blueprint.OpCheck && op != blueprint.OpWon {
					e.observe(Event{Run: info.id, Node: r.Key, Frame: r.Frame, Status: r.Status, Started: r.Started, Time: r.Finished})
				}
			}
		}
		err = v.advance(t, last)
	default:
		return nil, fmt.Errorf("unknown task kind %d", task.Kind)
	}
	if err != nil {
		return nil, err
	}
	if v.tr.End != nil && info.finally && store.InFinally(task.Token) {
		if err := v.finalEnd(); err != nil {
			return nil, err
		}
	}
	return v.tr, nil
}

// cachedRun returns the cached header of a run, or nil.
func (e *Engine) cachedRun(id string) *runInfo {
	if v, ok := e.runs.Load(id); ok {
		return v.(*runInfo)
	}
	return nil
}

// runnerState is what a runner goroutine keeps between the short tasks it
// runs, so that they cost as few allocations as possible: its VM, the
// Call it hands to Inline actions, and the step logger it hands them with
// the fields it changes from step to step (an Inline action keeps nothing
// of its Call, so the next step's fields never show in its lines).
type runnerState struct {
	vm     vm
	call   action.Call
	fields telemetry.StepFields
	logger *slog.Logger
}
