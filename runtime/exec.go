package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/value"
)

// errParams marks a failure to build a step's params: retrying cannot fix it.
var errParams = errors.New("params")

// execTask runs the steps of an Exec task from task.Step and computes the
// transition: records for every step run, then the token advanced past the
// Task, to a retry, to a catch block, or the run failed. A task delivered
// more often than its store allows runs less (see redeliveryOf).
func (e *Engine) execTask(ctx context.Context, v *vm, task *store.Task, rs *runnerState) error {
	in := &v.p.bp.Code[task.PC]
	if in.Op != blueprint.OpTask {
		return fmt.Errorf("task at pc %d is %v, not Task", task.PC, in.Op)
	}
	t := token{id: task.Token, seq: task.Seq, pc: task.PC, frame: task.Frame, group: task.Group, slot: task.Slot}
	attempt := int(task.Attempt)
	if attempt < 1 {
		attempt = 1
	}
	redo := redeliveryOf(task, len(in.Steps))
	var ts stepTrace
	defer ts.finish(v)
	var last any
	from := int(task.Step)
	if redo == runFirst {
		// The workers may have said which step they died in: the running
		// record StartStep wrote, after the final records of the steps
		// before it. Then that step is the one to blame, now, and the
		// delivery limit holds for the fused task as a whole.
		if j, done := e.diedIn(ctx, v, task, in, attempt); j >= 0 {
			for _, rec := range done {
				v.record(*rec)
				last = rec.Output
			}
			if j > from {
				attempt = 1
			}
			from, redo = j, abandon
		}
	}
	for k := from; k < len(in.Steps); k++ {
		if k > from && redo != runAll {
			// The steps left go on as a new queue entry, whose deliveries
			// are counted afresh: a step that stops workers must not be
			// run inline after the one this delivery was about.
			v.stopAtStep(t, int32(k), int32(attempt), time.Time{})
			return nil
		}
		st := &in.Steps[k]
		node := v.p.bp.Nodes[st.Node].ID
		key := v.nodeKey(t.frame, st.Node)
		// v.now was read when the task started or the last step ended.
		started := v.now
		// A node's record starts when its first attempt did: the records
		// of later attempts leave Started zero, and the store keeps the
		// first one's.
		recStarted := started
		if attempt > 1 {
			recStarted = time.Time{}
		}
		var out any
		var err error
		if k == from && redo == abandon {
			err = &abandonedError{deliveries: task.Deliveries - 1}
			ts.start(e, ctx, v, task, node, st.Action, key.Frame, attempt, started)
			e.stepLog(nil, v, node, attempt).Warn("task abandoned: not running its action again",
				"frame", key.Frame, "deliveries", task.Deliveries-1, "max_deliveries", task.MaxDeliveries)
		} else {
			if e.denies(st.Action) {
				if k > int(task.Step) {
					// Keep what the steps before it did; the denied step
					// becomes a queue entry of its own to hand back.
					v.stopAtStep(t, int32(k), int32(attempt), time.Time{})
					return nil
				}
				return &deniedError{action: st.Action}
			}
			// A short task (rs set) runs Inline actions only, which finish
			// within the transition; a step that may block shows as running
			// while it does.
			if rs == nil && e.blocks(st.Action) {
				if serr := e.startStep(ctx, v, task, store.Record{RecordKey: key, Status: store.Running, Attempts: attempt, Started: recStarted}); serr != nil {
					return serr
				}
			}
			e.observe(Event{Run: v.run.id, Node: node, Frame: key.Frame, Status: store.Running, Attempt: attempt, Time: started})
			v.cur = stepRef{node: node, frame: key.Frame, attempt: attempt}
			actx := ts.start(e, ctx, v, task, node, st.Action, key.Frame, attempt, started)
			out, err = e.runStep(actx, v, t, st, node, attempt, rs)
			if rs == nil && ctx.Err() != nil && errors.Is(context.Cause(ctx), errRunEnded) {
				// The run ended while the step ran (a short task, rs set,
				// is never cancelled): the store has marked
				// its record cancelled and the task's completion would be
				// stale, so this is the observer's only word on the step.
				e.observe(Event{Run: v.run.id, Node: node, Frame: key.Frame, Status: store.Cancelled, Attempt: attempt,
					Started: started, Time: time.Now()})
				return ctx.Err()
			}
		}
		v.now = time.Now()
		ts.done(v, err, v.now)
		if err == nil {
			v.record(store.Record{RecordKey: key, Status: store.Succeeded, Output: out, Attempts: attempt, Started: recStarted, Finished: v.now})
			e.observeStep(v, node, key.Frame, store.Succeeded, attempt, started, "")
			last = out
			attempt = 1
			continue
		}
		if ctx.Err() != nil {
			// The worker is stopping or the run ended: leave the task to be
			// run again (or dropped) rather than recording a failure.
			return ctx.Err()
		}
		var se *storeError
		if errors.As(err, &se) {
			// The store could not be read: hand the task back rather than
			// blame the node.
			return se
		}
		msg := err.Error()
		if attempt < st.Retry.MaxAttempts && !errors.Is(err, errParams) {
			v.record(store.Record{RecordKey: key, Status: store.Running, Attempts: attempt, Started: recStarted,
				Error: &store.ErrorInfo{Node: node, Message: msg}})
			at := v.now.Add(st.Retry.Delay(attempt + 1))
			v.retryScheduled(key, attempt+1, at, msg)
			v.stopAtStep(t, int32(k), int32(attempt+1), at)
			ts.retrying(v)
			return nil
		}
		info := &store.ErrorInfo{Node: node, Message: msg}
		e.observeStep(v, node, key.Frame, store.Failed, attempt, started, msg)
		switch {
		case st.Continue:
			out := map[string]any{"error": map[string]any{"message": msg, "node": node}}
			v.record(store.Record{RecordKey: key, Status: store.Failed, Output: out, Error: info, Attempts: attempt, Started: recStarted, Finished: v.now})
			last = out
			attempt = 1
			continue
		case st.Catch >= 0:
			v.record(store.Record{RecordKey: key, Status: store.Failed, Error: info, Attempts: attempt, Started: recStarted, Finished: v.now})
			t.pc = st.Catch
			return v.advance(t, nil)
		default:
			v.record(store.Record{RecordKey: key, Status: store.Failed, Error: info, Attempts: attempt, Started: recStarted, Finished: v.now})
			if v.trapFail(t, st.Node, info) {
				return nil
			}
			v.failParents(t.frame, st.Node, info)
			v.tr.End = &store.RunEnd{Status: store.Failed, Error: info}
			return nil
		}
	}
	t.pc++
	return v.advance(t, last)
}

// diedIn finds the step of a fused Exec task that was running when the
// workers delivered it stopped: the first step left whose stored record is
// the running record StartStep writes (running, this attempt, no error).
// It returns that step's index and the stored records of the steps before
// it, or -1 when no step says so (its actions are Inline, or the store
// could not be read): then the caller narrows the task down step by step.
func (e *Engine) diedIn(ctx context.Context, v *vm, task *store.Task, in *blueprint.Instr, attempt int) (int, []*store.Record) {
	t := int(task.Step)
	keys := make([]store.RecordKey, 0, len(in.Steps)-t)
	for k := t; k < len(in.Steps); k++ {
		keys = append(keys, v.nodeKey(task.Frame, in.Steps[k].Node))
	}
	recs, err := e.store.Records(ctx, task.Run, keys)
	if err != nil {
		return -1, nil
	}
	for i, r := range recs {
		want := 1
		if i == 0 {
			want = attempt
		}
		if r != nil && r.Status == store.Running && r.Error == nil && r.Attempts == want {
			return t + i, recs[:i]
		}
		if r == nil || (r.Status != store.Succeeded && r.Status != store.Failed) {
			return -1, nil
		}
	}
	return -1, nil
}

// errStale says a task's token has moved on or its run has ended (the
// store refused to record the start of its step): its completion would
// change nothing, so its action is not run and the task is only
// acknowledged.
var errStale = errors.New("stale task")

// blocks says whether a step's action may block (is not Inline): such a
// step gets a running record as it starts. An action missing here fails
// its step at once.
func (e *Engine) blocks(name string) bool {
	a, ok := e.registry.Lookup(name)
	return ok && !a.Inline
}

// startStep writes the running record of the step about to run, with the
// records of the task's steps that ran before it (the transition so far),
// through the store's fenced StartStep. It returns errStale when the fence
// did not hold, and ctx's error when the task is being cancelled. A store
// that cannot be reached does not stop the step: the record is progress
// shown to users, while the task's completion, which is what counts, is
// retried on its own.
func (e *Engine) startStep(ctx context.Context, v *vm, task *store.Task, running store.Record) error {
	recs := make([]*store.Record, 0, len(v.tr.Records)+1)
	recs = append(recs, v.tr.Records...)
	recs = append(recs, &running)
	ok, err := e.store.StartStep(ctx, task, recs)
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		e.stepLog(nil, v, running.Key, running.Attempts).Warn("could not record the start of a step", "frame", running.Frame, "err", err)
	case !ok:
		return errStale
	}
	return nil
}

// emptyParams is the params of a step that has none, for an Inline action
// that declares none (noop). It is shared so that it costs no allocation;
// such an action has no reason to write to it.
var emptyParams = map[string]any{}

// runStep evaluates a step's params and runs its action under its timeout.
// rs is the state of the runner goroutine running the task (nil on a
// goroutine of its own).
func (e *Engine) runStep(ctx context.Context, v *vm, t token, st *blueprint.Step, node string, attempt int, rs *runnerState) (any, error) {
	act, ok := e.registry.Lookup(st.Action)
	if !ok {
		return nil, fmt.Errorf("%w: action %q is not available on this worker", errParams, st.Action)
	}
	var params map[string]any
	if st.Params >= 0 {
		val, err := v.eval(t, st.Params)
		if err != nil {
			var se *storeError
			if errors.As(err, &se) {
				return nil, se
			}
			return nil, fmt.Errorf("%w: %w", errParams, err)
		}
		m, ok := val.(map[string]any)
		if !ok && val != nil {
			return nil, fmt.Errorf("%w: %w", errParams, v.typeError(st.Params, "params evaluate to a %s, not a map", value.TypeName(val)))
		}
		if m != nil {
			params = m
		}
	}
	var decoded map[string]any
	if params != nil || len(act.Schema.Fields) > 0 || len(act.Schema.OneOf) > 0 || act.Schema.Open {
		if params == nil {
			params = map[string]any{}
		}
		var err error
		if decoded, err = act.Schema.Decode(params); err != nil {
			return nil, fmt.Errorf("%w: %w", errParams, err)
		}
	} else if act.Inline {
		// A step without params for an action that declares none (noop):
		// there is nothing to decode, and the action gets an empty map,
		// shared, since an Inline action keeps nothing of its Call.
		decoded = emptyParams
	} else {
		decoded = map[string]any{}
	}
	actx := ctx
	if st.Timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, st.Timeout)
		defer cancel()
	}
	var call *action.Call
	if rs != nil && act.Inline {
		// An Inline action returns before the next task starts and keeps
		// nothing of its Call: the runner reuses one.
		call = &rs.call
	} else {
		call = new(action.Call)
	}
	*call = action.Call{Params: decoded, Logger: e.stepLog(rs, v, node, attempt), RunID: v.run.id, NodeID: node, Attempt: attempt, Journal: v}
	out, err := runAction(actx, act, call)
	if err != nil {
		if st.Timeout > 0 && errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("timed out after %s", st.Timeout)
		}
		return nil, err
	}
	out, err = value.Canonical(out)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	return out, nil
}

// runAction calls an action, turning a panic into the attempt's error: a
// bug in one host action must fail its node, not the worker and every other
// run on it.
func runAction(ctx context.Context, act *action.Action, call *action.Call) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("action %q panicked: %v", act.Name, r)
		}
	}()
	return act.Run(ctx, call)
}

// observeStep reports an Action's outcome as its step ends rather than when
// its task's transition is applied: the steps of a fused task run back to
// back in one task, and each is to be seen ending at its own time.
func (e *Engine) observeStep(v *vm, node, frame string, status store.Status, attempt int, started time.Time, msg string) {
	if e.observer == nil {
		return
	}
	e.observe(Event{Run: v.run.id, Node: node, Frame: frame, Status: status, Attempt: attempt, Started: started, Time: v.now, Error: msg})
}
