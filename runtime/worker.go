package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

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
	// Heartbeat is how often leases of running tasks are extended (default
	// 10s; set it to a third of the store's lease).
	Heartbeat time.Duration
	// Grace is how long a stopping worker lets running tasks finish before
	// it cancels them and hands them back (default 30s).
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

func (o *WorkerOptions) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 256
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.Consumer == "" {
		host, _ := os.Hostname()
		o.Consumer = host + "-" + strconv.Itoa(os.Getpid()) + "-" + NewRunID()[:6]
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

type inflight struct {
	task   *store.Task
	cancel context.CancelCauseFunc
}

// errRunEnded cancels the actions of a run that has ended.
var errRunEnded = errors.New("run ended")

// Work leases tasks and runs them until ctx is done. Then it stops leasing,
// lets running tasks finish for up to Grace, cancels and hands back the
// rest, and returns.
func (e *Engine) Work(ctx context.Context, opts WorkerOptions) error {
	opts.defaults()
	w := &worker{e: e, opts: opts, inflight: map[*store.Task]*inflight{},
		slots: make(chan struct{}, opts.Concurrency), done: make(chan store.Completion, opts.Batch*4)}
	// Running tasks outlive ctx by up to Grace.
	execCtx, stopExec := context.WithCancel(context.WithoutCancel(ctx))
	defer stopExec()
	subCtx, stopSub := context.WithCancel(execCtx)
	defer stopSub()
	go w.watchEnds(e.store.Ended(subCtx))
	completerDone := make(chan struct{})
	go func() {
		defer close(completerDone)
		w.completer(execCtx)
	}()
	hbCtx, stopHB := context.WithCancel(execCtx)
	go w.heartbeat(hbCtx)

	w.lease(ctx, execCtx)

	// Drain: wait for running tasks, then cancel what is left.
	idle := make(chan struct{})
	go func() {
		w.running.Wait()
		close(idle)
	}()
	select {
	case <-idle:
	case <-time.After(opts.Grace):
		w.mu.Lock()
		for _, f := range w.inflight {
			f.cancel(context.Canceled)
		}
		w.mu.Unlock()
		<-idle
	}
	stopHB()
	close(w.done)
	<-completerDone
	return nil
}

type worker struct {
	e        *Engine
	opts     WorkerOptions
	slots    chan struct{}
	running  sync.WaitGroup
	done     chan store.Completion
	mu       sync.Mutex
	inflight map[*store.Task]*inflight
	stopping bool
}

func (w *worker) report(err error) {
	if w.opts.OnError != nil {
		w.opts.OnError(err)
	} else {
		w.e.logger.Error("worker", "err", err)
	}
}

func (w *worker) lease(ctx, execCtx context.Context) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		// Hold at least one slot, then take as many more as are free.
		select {
		case w.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		n := 1
		for n < w.opts.Batch {
			select {
			case w.slots <- struct{}{}:
				n++
				continue
			default:
			}
			break
		}
		tasks, err := w.e.store.Lease(ctx, w.opts.Consumer, n, time.Second)
		for i := len(tasks); i < n; i++ {
			<-w.slots
		}
		if err != nil {
			if ctx.Err() != nil {
				w.release(tasks)
				return
			}
			w.report(fmt.Errorf("lease: %w", err))
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		for _, t := range tasks {
			w.start(execCtx, t)
		}
	}
}

func (w *worker) release(tasks []*store.Task) {
	if len(tasks) == 0 {
		return
	}
	if err := w.e.store.Release(context.Background(), tasks); err != nil {
		w.report(fmt.Errorf("release: %w", err))
	}
}

func (w *worker) start(execCtx context.Context, t *store.Task) {
	tctx, cancel := context.WithCancelCause(execCtx)
	f := &inflight{task: t, cancel: cancel}
	w.mu.Lock()
	w.inflight[t] = f
	w.mu.Unlock()
	w.running.Add(1)
	go func() {
		defer w.running.Done()
		if w.opts.OnStart != nil {
			w.opts.OnStart(t, time.Now())
		}
		tr, err := w.e.handle(tctx, t)
		w.mu.Lock()
		delete(w.inflight, t)
		w.mu.Unlock()
		cause := context.Cause(tctx)
		cancel(nil)
		<-w.slots
		switch {
		case err == nil:
			w.done <- store.Completion{Task: t, Transition: tr}
		case errors.Is(cause, errRunEnded):
			w.done <- store.Completion{Task: t}
		case tctx.Err() != nil:
			// The worker is shutting down: another worker takes the task.
			w.release([]*store.Task{t})
		default:
			var se *storeError
			if errors.As(err, &se) {
				w.report(fmt.Errorf("run %s: %w", t.Run, err))
				w.release([]*store.Task{t})
				return
			}
			// A bug or a foreign Blueprint: fail the run loudly rather
			// than leave it hanging.
			w.report(fmt.Errorf("run %s: %w", t.Run, err))
			w.done <- store.Completion{Task: t, Transition: &store.Transition{Token: t.Token, Seq: t.Seq,
				End: &store.RunEnd{Status: store.Failed, Error: &store.ErrorInfo{Message: "internal error: " + err.Error()}}}}
		}
	}()
}

// completer applies completions in batches: whatever has finished while the
// previous batch was being applied goes in the next one.
func (w *worker) completer(ctx context.Context) {
	batch := make([]store.Completion, 0, w.opts.Batch)
	for c := range w.done {
		batch = append(batch[:0], c)
	fill:
		for len(batch) < w.opts.Batch {
			select {
			case c, ok := <-w.done:
				if !ok {
					break fill
				}
				batch = append(batch, c)
			default:
				break fill
			}
		}
		w.apply(ctx, batch)
	}
}

func (w *worker) apply(ctx context.Context, batch []store.Completion) {
	backoff := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		applied, err := w.e.store.Complete(ctx, batch)
		if err == nil {
			if w.e.observer != nil {
				for i, c := range batch {
					if applied[i] && c.Transition != nil {
						w.e.observeTransition(c.Task.Run, c.Transition)
					}
				}
			}
			return
		}
		if attempt >= 8 || ctx.Err() != nil {
			// The leases expire and the tasks run again elsewhere.
			w.report(fmt.Errorf("complete %d tasks: %w", len(batch), err))
			return
		}
		w.report(fmt.Errorf("complete (retrying): %w", err))
		time.Sleep(backoff)
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (e *Engine) observeTransition(run string, tr *store.Transition) {
	for _, r := range tr.Records {
		if r.Status == store.Running || len(r.Key) == 0 || isInternalKey(r.Key) {
			continue
		}
		ev := Event{Run: run, Node: r.Key, Frame: r.Frame, Status: r.Status, Attempt: r.Attempts, Started: r.Started, Time: r.Finished}
		if r.Error != nil {
			ev.Error = r.Error.Message
		}
		e.observe(ev)
	}
	if tr.End != nil {
		e.observe(Event{Run: run, Status: tr.End.Status, Time: time.Now()})
	}
}

func isInternalKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if k[i] == '#' {
			return true
		}
	}
	return false
}

func (w *worker) watchEnds(ch <-chan string) {
	for id := range ch {
		w.e.runs.Delete(id)
		w.mu.Lock()
		for _, f := range w.inflight {
			if f.task.Run == id {
				f.cancel(errRunEnded)
			}
		}
		w.mu.Unlock()
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
		w.mu.Lock()
		tasks := make([]*store.Task, 0, len(w.inflight))
		for t := range w.inflight {
			tasks = append(tasks, t)
		}
		w.mu.Unlock()
		if len(tasks) == 0 {
			continue
		}
		if err := w.e.store.Extend(ctx, tasks); err != nil && ctx.Err() == nil {
			w.report(fmt.Errorf("extend leases: %w", err))
		}
	}
}
