package runtime

import (
	"errors"
	"sync"
	"time"

	"github.com/skript-dev/skript/internal/backoff"
	"github.com/skript-dev/skript/store"
)

// maxHandBackDelay is how long a worker keeps a task of an action it
// denies before handing it back. A worker that allows the action may be
// busy, or there may be none: without a pause the task would bounce
// between denying workers as fast as they can lease it. A second keeps
// that to about one lease per denying worker per second, and delays a
// task that meets a denying worker first by no more than that.
const maxHandBackDelay = time.Second

// denyState is what an Engine knows of the actions its host denies.
type denyState struct {
	names  map[string]bool
	logged sync.Map // action name -> struct{}: said once per engine
}

// WithDeniedActions names actions this engine's workers refuse to run
// (`skript worker --deny-action`). A task that reaches such a step is not
// failed but handed back to the queue after a pause, for a worker that
// allows the action: on a shared store, workers may differ in what they
// run. With no such worker, the task waits (and is handed back once a
// second) until one starts or the run is cancelled. Remove the actions
// from the registry as well, so that runs started here do not compile.
func WithDeniedActions(names ...string) Option {
	return func(e *Engine) {
		if e.deny.names == nil {
			e.deny.names = map[string]bool{}
		}
		for _, n := range names {
			e.deny.names[n] = true
		}
	}
}

// deniedError says a task's first step is of an action this worker denies.
type deniedError struct{ action string }

func (e *deniedError) Error() string {
	return "action " + e.action + " is denied on this worker"
}

func (e *Engine) denies(action string) bool {
	return e.deny.names[action]
}

// handBack returns a task of a denied action to the queue after a pause
// that stays under the heartbeat period, so its lease is still this
// worker's when it is released. A released entry is a new one on the
// store, so bouncing does not count against its delivery limit.
func (w *worker) handBack(t *store.Task, err error) bool {
	var de *deniedError
	if !errors.As(err, &de) {
		return false
	}
	delay := min(maxHandBackDelay, w.opts.Heartbeat)
	if _, said := w.e.deny.logged.LoadOrStore(de.action, struct{}{}); !said {
		w.e.logger.Warn("action denied on this worker: handing its tasks back for a worker that allows it",
			"action", de.action, "delay", delay)
	}
	w.running.Add(1)
	go func() {
		defer w.running.Done()
		// A worker that stops hands the task back at once.
		backoff.Sleep(w.execCtx, delay)
		w.release([]*store.Task{t})
	}()
	return true
}
