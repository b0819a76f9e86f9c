package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skript-dev/skript/internal/backoff"
	"github.com/skript-dev/skript/store"
)

// WorkerOptions tune Engine.Work.
type WorkerOptions struct {
	// Concurrency is how many tasks run at once (default 256). Actions
	// mostly wait on I/O, so this is far above the number of cores.
	Concurrency int
	// Consumer names this worker in the store (default host-pid).
	Consumer string
	// Batch is the most tasks leased or completed per store call (default 256).
	Batch int
	// Heartbeat is how often leases of running tasks are extended. The
	// default is a third of the store's lease when the store tells it (see
	// store.Capabilities.LeaseDuration), else 10s.
	Heartbeat time.Duration
	// Grace is how long a stopping worker lets running tasks finish before
	// it cancels them and hands them back (default 30s), and then how long
	// more it keeps trying to apply the completions it holds before it
	// hands their tasks back too.
	Grace time.Duration
	// OnError, when set, receives errors the worker recovered from.
	OnError func(error)
	// OnStart, when set, is called as the worker starts executing a task,
	// with the time it started; with task.Enqueued (when the task became
	// ready) it gives the scheduling latency `skript bench` reports. It
	// runs on the worker's hot path, so it must be quick; unset, it costs
	// one nil check per task.
	OnStart func(task *store.Task, started time.Time)
}

func (o *WorkerOptions) defaults(s store.Store) {
	if o.Heartbeat <= 0 {
		if d := s.Capabilities().LeaseDuration; d > 0 {
			// Three beats per lease: a lease survives one late or lost
			// Extend.
			o.Heartbeat = max(d/3, time.Millisecond)
		}
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 256
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.Consumer == "" {
		host, _ := os.Hostname()
		o.Consumer = host + "-" + strconv.Itoa(os.Getpid()) + "-" + randomSuffix()
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 10 * time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 30 * time.Second
	}
}

// storeError marks a failure to talk to the store: the task is handed back
// rather than failing its run.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// releaseTimeout bounds a Release: a worker handing tasks back as it stops
// must not hang on a store that does not answer (the leases then expire
// and the tasks run elsewhere anyway).
const releaseTimeout = 5 * time.Second

// unreadableRun is a permanent store error met reading a run's header: the
// run cannot be failed through a transition either, so its task is only
// acknowledged, with the reason logged.
type unreadableRun struct{ err error }

func (e *unreadableRun) Error() string { return e.err.Error() }
func (e *unreadableRun) Unwrap() error { return e.err }

// errRunEnded cancels the actions of a run that has ended.
var errRunEnded = errors.New("run ended")

// Work leases tasks and runs them until ctx is done. Then it stops leasing,
// lets running tasks finish for up to Grace, cancels and hands back the
// rest, and returns. It returns an error when it could not shut down
// cleanly: completions it could not apply, or tasks it could not hand back
// (their leases expire and they run again elsewhere). Errors it recovered
// from while running go to OnError.
//
// A fixed set of runner goroutines (one per CPU) each lease a batch of
// tasks, run the short ones themselves, one after the other (see short.go),
// give every other task a goroutine and a cancellable context of its own,
// and lease again. Completions go to one completer goroutine, which applies
// them in batches while the runners go on.
func (e *Engine) Work(ctx context.Context, opts WorkerOptions) error {
	opts.defaults(e.store)
	opts.OnStart = e.onStart(opts.OnStart, opts.Consumer)
	nr := max(goruntime.GOMAXPROCS(0), 1)
	w := &worker{e: e, opts: opts, slots: newSlotPool(opts.Concurrency),
		done: make(chan doneBatch, 4*nr+64)}
	// Each runner leases at most its share of the slots, so that one
	// runner never holds them all while the others wait.
	w.share = max(1, min(opts.Batch, (opts.Concurrency+nr-1)/nr))
	// Running tasks outlive ctx by up to Grace.
	execCtx, stopExec := context.WithCancel(context.WithoutCancel(ctx))
	defer stopExec()
	w.execCtx = execCtx
	subCtx, stopSub := context.WithCancel(execCtx)
	defer stopSub()
	go w.watchEnds(e.store.Ended(subCtx))
	completerDone := make(chan struct{})
	// The completer retries until it is told to stop: only once the worker
	// is stopping and has given it Grace more to apply what it holds.
	complCtx, stopCompl := context.WithCancel(execCtx)
	defer stopCompl()
	go func() {
		defer close(completerDone)
		w.completer(complCtx)
	}()
	hbCtx, stopHB := context.WithCancel(execCtx)
	go w.heartbeat(hbCtx)
	var runners sync.WaitGroup
	for range nr {
		runners.Go(func() { w.runner(ctx) })
	}
	runners.Wait()

	// Drain: wait for running tasks, then cancel what is left.
	idle := make(chan struct{})
	go func() {
		w.running.Wait()
		close(idle)
	}()
	select {
	case <-idle:
	case <-time.After(opts.Grace):
		w.flights.cancelAll(context.Canceled)
		<-idle
	}
	stopHB()
	close(w.done)
	select {
	case <-completerDone:
	case <-time.After(opts.Grace):
		stopCompl()
		<-completerDone
	}
	return w.shutdownErr()
}

type worker struct {
	e       *Engine
	opts    WorkerOptions
	execCtx context.Context
	slots   *slotPool
	share   int
	// running counts the tasks running on goroutines of their own.
	running sync.WaitGroup
	done    chan doneBatch
	flights flightSet

	// storeFails counts transient store errors since the last applied
	// completion, for the backoff before a task is handed back.
	storeFails atomic.Int32

	errMu sync.Mutex
	// errs are what went wrong on shutdown paths, for Work to return.
	errs []error
}

// fail records an error Work returns, and reports it.
func (w *worker) fail(err error) {
	w.report(err)
	w.errMu.Lock()
	if len(w.errs) < 8 {
		w.errs = append(w.errs, err)
	}
	w.errMu.Unlock()
}

func (w *worker) shutdownErr() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return errors.Join(w.errs...)
}

// doneBatch is completions on their way to the completer, with the
// transition buffers it recycles once they are applied.
type doneBatch struct {
	cs   []store.Completion
	bufs []*trBuf
}

func (w *worker) report(err error) {
	if w.opts.OnError != nil {
		w.opts.OnError(err)
	} else {
		w.e.logger.Error("worker", "err", err)
	}
}

// runner leases batches of tasks and runs them until ctx is done.
func (w *worker) runner(ctx context.Context) {
	rs := new(runnerState)
	retry := backoff.New(50*time.Millisecond, 5*time.Second)
	for ctx.Err() == nil {
		// Hold at least one slot, then as many more as are free.
		n := w.slots.acquire(ctx, w.share)
		if n == 0 {
			return
		}
		tasks, err := w.e.store.Lease(ctx, w.opts.Consumer, n, time.Second)
		if len(tasks) < n {
			w.slots.release(n - len(tasks))
		}
		if err != nil {
			if ctx.Err() != nil {
				w.slots.release(len(tasks))
				w.release(tasks)
				return
			}
			w.report(fmt.Errorf("lease: %w", err))
			retry.Wait(ctx)
			continue
		}
		retry.Reset()
		w.run(rs, tasks)
	}
}

func (w *worker) release(tasks []*store.Task) {
	if len(tasks) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	if err := w.e.store.Release(ctx, tasks); err != nil {
		w.fail(fmt.Errorf("release %d tasks: %w", len(tasks), err))
	}
}

// run runs the short tasks of a leased batch, one after the other, and
// starts the others on goroutines of their own.
func (w *worker) run(rs *runnerState, tasks []*store.Task) {
	out := make([]store.Completion, 0, len(tasks))
	var bufs []*trBuf
	var info *runInfo
	// now is when the runner is free for the next task. After an Exec task
	// it is the clock reading that ended the task's last step: the runner
	// goes straight on (the transition's bookkeeping in between takes well
	// under a microsecond), and a clock reading costs as much as a noop.
	var now time.Time
	freed := 0
	for _, t := range tasks {
		p := w.e.programs.cached(t.Hash)
		if p == nil || !p.isShort(t) {
			w.spawn(t)
			now = time.Time{}
			continue
		}
		if info == nil || info.id != t.Run {
			info = w.e.cachedRun(t.Run)
			if info == nil && p.localReads {
				info, _ = w.e.runInfo(w.execCtx, t.Run)
			}
			if info == nil {
				w.spawn(t)
				now = time.Time{}
				continue
			}
		}
		if info.retryOf != "" && !p.localReads {
			// A retried run reads its records at every Task and Wait
			// (retry.go), across the network here.
			w.spawn(t)
			now = time.Time{}
			continue
		}
		if now.IsZero() {
			now = time.Now()
		}
		if w.opts.OnStart != nil {
			w.opts.OnStart(t, now)
		}
		tr, err := w.e.compute(w.execCtx, p, info, t, rs, now)
		now = time.Time{}
		if t.Kind == store.Exec && err == nil {
			now = rs.vm.now
		}
		freed++
		if c, ok := w.outcome(t, tr, err, nil); ok {
			out = append(out, c)
			if c.Transition == tr && tr != nil {
				if bufs == nil {
					bufs = make([]*trBuf, 0, len(tasks))
				}
				bufs = append(bufs, rs.vm.buf)
			}
		}
	}
	w.slots.release(freed)
	if len(out) > 0 {
		w.done <- doneBatch{cs: out, bufs: bufs}
	}
}

// spawn runs a task on a goroutine of its own, with a context that is
// cancelled when its run ends or when the worker gives up waiting for it.
func (w *worker) spawn(t *store.Task) {
	tctx, cancel := context.WithCancelCause(w.execCtx)
	f := &inflight{task: t, cancel: cancel}
	w.flights.add(f)
	w.running.Add(1)
	go func() {
		defer w.running.Done()
		if w.opts.OnStart != nil {
			w.opts.OnStart(t, time.Now())
		}
		tr, err := w.e.handle(tctx, t)
		w.flights.remove(f)
		// Read the cause before cancel(nil), which would set one.
		cause := context.Cause(tctx)
		cancel(nil)
		w.slots.release(1)
		if c, ok := w.outcome(t, tr, err, cause); ok {
			w.done <- doneBatch{cs: []store.Completion{c}}
		}
	}()
}

// outcome turns a task's result into its completion, or hands the task
// back (ok false). cause is why the task's own context was cancelled
// while it ran (nil if it was not, or for a short task, which has none).
func (w *worker) outcome(t *store.Task, tr *store.Transition, err error, cause error) (store.Completion, bool) {
	if err == nil {
		return store.Completion{Task: t, Transition: tr}, true
	}
	switch {
	case errors.Is(err, errStale), errors.Is(cause, errRunEnded):
		// Acknowledged only: the token has moved on or the run has ended.
		return store.Completion{Task: t}, true
	case cause != nil, w.execCtx.Err() != nil:
		// The worker is shutting down: another worker takes the task.
		w.release([]*store.Task{t})
		return store.Completion{}, false
	}
	var ur *unreadableRun
	if errors.As(err, &ur) {
		// Handing it back would bring it straight back, forever.
		w.report(fmt.Errorf("run %s: dropping its task, the run cannot be read: %w", t.Run, err))
		return store.Completion{Task: t}, true
	}
	if store.IsPermanent(err) {
		// No retry mends it (a record that does not decode): fail this
		// run with the reason; other runs go on.
		w.report(fmt.Errorf("run %s: failing it on a permanent store error: %w", t.Run, err))
		return store.Completion{Task: t, Transition: &store.Transition{Token: t.Token, Seq: t.Seq,
			End: &store.RunEnd{Status: store.Failed, Error: &store.ErrorInfo{Message: "store error: " + err.Error()}}}}, true
	}
	if w.handBack(t, err) {
		return store.Completion{}, false
	}
	var se *storeError
	if errors.As(err, &se) {
		w.report(fmt.Errorf("run %s: %w", t.Run, err))
		// A transient failure: wait before handing the task back, so a
		// store in trouble is not met with a tight loop of leases.
		backoff.Sleep(w.execCtx, backoff.Delay(int(w.storeFails.Add(1)), 50*time.Millisecond, 5*time.Second, 2, 0.2, nil))
		w.release([]*store.Task{t})
		return store.Completion{}, false
	}
	// A bug or a foreign Blueprint: fail the run loudly rather than leave
	// it hanging.
	w.report(fmt.Errorf("run %s: %w", t.Run, err))
	return store.Completion{Task: t, Transition: &store.Transition{Token: t.Token, Seq: t.Seq,
		End: &store.RunEnd{Status: store.Failed, Error: &store.ErrorInfo{Message: "internal error: " + err.Error()}}}}, true
}

// completer applies completions in batches: whatever has finished while the
// previous batch was being applied goes in the next one.
func (w *worker) completer(ctx context.Context) {
	limit := 4 * w.opts.Batch
	batch := make([]store.Completion, 0, limit)
	var bufs []*trBuf
	for db := range w.done {
		batch = append(batch[:0], db.cs...)
		bufs = append(bufs[:0], db.bufs...)
	fill:
		for len(batch) < limit {
			select {
			case db, ok := <-w.done:
				if !ok {
					break fill
				}
				batch = append(batch, db.cs...)
				bufs = append(bufs, db.bufs...)
			default:
				break fill
			}
		}
		w.apply(ctx, batch)
		clear(batch) // let applied transitions go
		// The store keeps none of the transitions (see store.Store.Complete):
		// their buffers serve the next tasks.
		for i, b := range bufs {
			putTrBuf(b)
			bufs[i] = nil
		}
	}
}

// apply applies a batch of completions, retrying with backoff for as long
// as ctx lasts: dropping them would leave their leases to expire and their
// actions to run again. When ctx ends first, the tasks are handed back.
func (w *worker) apply(ctx context.Context, batch []store.Completion) {
	// At most a second apart: the tasks' leases run while the worker waits.
	retry := backoff.New(50*time.Millisecond, time.Second)
	for {
		applied, err := w.e.store.Complete(ctx, batch)
		if err == nil {
			w.storeFails.Store(0)
			w.e.applied(ctx, batch, applied)
			if w.e.observer != nil {
				for i, c := range batch {
					if applied[i] && c.Transition != nil {
						w.e.observeTransition(c.Task.Run, c.Transition)
					}
				}
			}
			return
		}
		if ctx.Err() == nil {
			w.report(fmt.Errorf("complete %d tasks (retrying): %w", len(batch), err))
			if retry.Wait(ctx) {
				continue
			}
		}
		w.fail(fmt.Errorf("complete %d tasks: gave up as the worker stopped: %w", len(batch), err))
		tasks := make([]*store.Task, len(batch))
		for i, c := range batch {
			tasks[i] = c.Task
		}
		w.release(tasks)
		return
	}
}

func (e *Engine) observeTransition(run string, tr *store.Transition) {
	for _, r := range tr.Records {
		if len(r.Key) == 0 || store.InternalKey(r.Key) {
			continue
		}
		ev := Event{Run: run, Node: r.Key, Frame: r.Frame, Status: r.Status, Attempt: r.Attempts, Started: r.Started, Time: r.Finished}
		if r.Attempts > 0 && r.Status != store.Running {
			// An Action's outcome was reported as its step ended
			// (observeStep).
			continue
		}
		if r.Status == store.Running {
			// Composite nodes and Waits start here; a retried step was
			// already reported when its attempt started.
			if r.Attempts > 0 || r.Started.IsZero() {
				continue
			}
			ev.Time = r.Started
		}
		if r.Error != nil {
			ev.Error = r.Error.Message
		}
		e.observe(ev)
	}
	if tr.End != nil && e.endsRun(run, tr.Token) {
		e.observe(Event{Run: run, Status: tr.End.Status, Time: time.Now()})
	}
}

func (w *worker) watchEnds(ch <-chan string) {
	for s := range ch {
		n := store.ParseNotice(s)
		if n.Ended() {
			if _, ok := w.e.runs.LoadAndDelete(n.Run); ok {
				w.e.nruns.Add(-1)
			}
		}
		w.flights.cancelRun(n, errRunEnded)
	}
}

func (w *worker) heartbeat(ctx context.Context) {
	tick := time.NewTicker(w.opts.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		tasks := w.flights.tasks()
		if len(tasks) == 0 {
			continue
		}
		if err := w.e.store.Extend(ctx, tasks); err != nil && ctx.Err() == nil {
			w.report(fmt.Errorf("extend leases: %w", err))
		}
	}
}

// randomSuffix tells apart the consumers of one host and pid across
// restarts (a pid is reused; the consumer group remembers names).
func randomSuffix() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
