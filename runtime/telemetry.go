package runtime

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/telemetry"
)

// The runtime's observability hooks: a few calls from the engine, the
// worker and the step loop into package telemetry. Each starts with a nil
// check, so an engine without telemetry pays that and nothing more.

// WithTelemetry makes the engine trace its runs and steps and count them
// in Prometheus metrics (see package telemetry). Without it (or with nil)
// there are neither, at the cost of a nil check per hook; a run started
// with a span in its context still keeps that trace context, for the
// workers that have telemetry.
func WithTelemetry(t *telemetry.Telemetry) Option { return func(e *Engine) { e.tel = t } }

// instrument wraps the store so that its operations are measured, when
// the engine has metrics. Engine.Store still returns the store as given.
func (e *Engine) instrument() {
	if m := e.tel.Metrics(); m != nil {
		e.raw = e.store
		e.store = m.Store(e.store)
	}
}

// runTel is what a run's header says about its trace.
type runTel struct {
	// trace is the traceparent the run's tasks carry, that of the run
	// span ("" when the run has no trace).
	trace   string
	header  string // the header's own traceparent
	version string
	created time.Time
}

func newRunTel(r *store.Run) runTel {
	rt := runTel{version: r.Version, created: r.Created}
	if r.Trace != "" {
		rt.trace, rt.header = telemetry.TaskTrace(r.Trace, r.ID), r.Trace
	}
	return rt
}

// traceRun sets the trace context a new run keeps (see
// telemetry.Telemetry.StartTrace).
func (e *Engine) traceRun(ctx context.Context, hdr *store.Run) {
	hdr.Trace = e.tel.StartTrace(ctx, hdr.ID, hdr.Workflow)
}

// started counts a run created with its first transition, which may have
// ended it already.
func (e *Engine) started(ctx context.Context, info *runInfo, first *store.Transition) {
	if e.tel == nil {
		return
	}
	if m := e.tel.Metrics(); m != nil {
		m.RunStarted(info.workflow)
	}
	if first.End != nil {
		e.runEnded(ctx, info, first.End.Status, first.End.Error, time.Now())
	}
}

func (e *Engine) runEnded(ctx context.Context, info *runInfo, status store.Status, ei *store.ErrorInfo, at time.Time) {
	if m := e.tel.Metrics(); m != nil {
		m.RunEnded(info.workflow, status)
	}
	if !e.tel.Tracing() {
		return
	}
	msg := ""
	if ei != nil {
		msg = ei.Message
	}
	rs := telemetry.RunSpan{ID: info.id, Workflow: info.workflow, Version: info.tel.version,
		Trace: info.tel.header, Created: info.tel.created}
	if rs.Trace == "" {
		rs.Trace = telemetry.DerivedTrace(info.id)
	}
	e.tel.RunEnded(ctx, rs, status, msg, at)
}

// applied reports a batch of completions the store has applied: stale
// ones, and the runs their transitions ended.
func (e *Engine) applied(ctx context.Context, batch []store.Completion, applied []bool) {
	if e.tel == nil {
		return
	}
	stale := 0
	now := time.Now()
	for i, c := range batch {
		if i >= len(applied) || !applied[i] {
			stale++
			continue
		}
		if c.Transition == nil || c.Transition.End == nil {
			continue
		}
		info, err := e.runInfo(ctx, c.Task.Run)
		if err != nil || !info.ended(c.Task.Token) {
			continue
		}
		e.runEnded(ctx, info, c.Transition.End.Status, c.Transition.End.Error, now)
	}
	if m := e.tel.Metrics(); m != nil && stale > 0 {
		m.Stale(stale)
	}
}

// cancelling returns the header of a run about to be cancelled when it is
// running and the engine has telemetry (the run's end is then this
// process's to report), else nil.
func (e *Engine) cancelling(ctx context.Context, id string) *runInfo {
	if e.tel == nil {
		return nil
	}
	hdr, err := e.store.GetRun(ctx, id)
	if err != nil || hdr.Status.Done() || (hdr.Finally != nil && hdr.Finishing == nil) {
		// A run with finally nodes ends once they have run.
		return nil
	}
	return newRunInfo(hdr)
}

// cancelled reports the end of a run this process cancelled.
func (e *Engine) cancelled(ctx context.Context, info *runInfo, reason string) {
	if info != nil {
		e.runEnded(ctx, info, store.Cancelled, &store.ErrorInfo{Type: action.ErrCancelled, Message: reason}, time.Now())
	}
}

// onStart adds to the worker's own OnStart the metrics taken as it starts
// a task (scheduling latency, leases taken over) and, for its spans, the
// worker's name on tasks whose driver does not set it.
func (e *Engine) onStart(next func(*store.Task, time.Time), consumer string) func(*store.Task, time.Time) {
	if e.tel == nil {
		return next
	}
	m, tracing := e.tel.Metrics(), e.tel.Tracing()
	return func(t *store.Task, at time.Time) {
		if tracing && t.Worker == "" {
			t.Worker = consumer
		}
		if m != nil {
			m.TaskStarted(t, at)
		}
		if next != nil {
			next(t, at)
		}
	}
}

// stepTrace follows the step attempts of one Exec task for telemetry: the
// span and metrics of the attempt running, which ends as the next one
// starts or the task's transition is computed. Its zero value, on an
// engine without telemetry, does nothing.
type stepTrace struct {
	e       *Engine
	step    telemetry.Step
	action  string
	started time.Time
	ended   bool
}

// start opens a step attempt's span and counts it; the context returned is
// the one its action runs with.
func (ts *stepTrace) start(e *Engine, ctx context.Context, v *vm, task *store.Task, node, action, frame string, attempt int, started time.Time) context.Context {
	if e.tel == nil {
		return ctx // inlined: off, the hook is this check
	}
	return ts.startOn(e, ctx, v, task, node, action, frame, attempt, started)
}

func (ts *stepTrace) startOn(e *Engine, ctx context.Context, v *vm, task *store.Task, node, action, frame string, attempt int, started time.Time) context.Context {
	ts.end(v, started, false)
	ts.e, ts.action, ts.started, ts.ended = e, action, started, false
	if m := e.tel.Metrics(); m != nil {
		m.StepStarted(v.run.workflow, action)
	}
	if !e.tel.Tracing() {
		return ctx
	}
	tp := task.Trace
	if tp == "" {
		// A task the store built (a group's child) names no trace: the
		// run's header does.
		tp = v.run.tel.trace
	}
	if tp == "" {
		tp = telemetry.TaskTrace(telemetry.DerivedTrace(v.run.id), v.run.id)
	}
	ctx, ts.step = e.tel.StartStep(ctx, telemetry.StepInfo{Run: v.run.id, Workflow: v.run.workflow, Node: node, Frame: frame,
		Action: action, Attempt: attempt, Worker: task.Worker, Trace: tp, Deliveries: task.Deliveries, Partition: task.Partition, Started: started})
	return ctx
}

// done records how the attempt's action returned, at at.
func (ts *stepTrace) done(v *vm, err error, at time.Time) {
	if ts.e != nil && !ts.ended {
		ts.doneOn(v, err, at)
	}
}

func (ts *stepTrace) doneOn(v *vm, err error, at time.Time) {
	ts.ended = true
	if m := ts.e.tel.Metrics(); m != nil {
		outcome := telemetry.OutcomeSucceeded
		if err != nil {
			outcome = telemetry.OutcomeFailed
			if ae := (*abandonedError)(nil); errors.As(err, &ae) {
				m.DeliveryLimit(v.run.workflow)
			}
		}
		m.StepFinished(v.run.workflow, ts.action, outcome, at.Sub(ts.started))
	}
	ts.step.Ended(err, at)
}

// retrying counts a failed attempt that will run again (the span's event
// comes from the transition's delayed task).
func (ts *stepTrace) retrying(v *vm) {
	if ts.e == nil {
		return
	}
	if m := ts.e.tel.Metrics(); m != nil {
		m.RetryScheduled(v.run.workflow)
	}
}

// finish ends the last attempt's span once the task's transition is
// computed, with the retries and waits it schedules as events.
func (ts *stepTrace) finish(v *vm) {
	if ts.e != nil {
		ts.finishOn(v)
	}
}

func (ts *stepTrace) finishOn(v *vm) {
	now := time.Now()
	if !ts.ended {
		// The step's action returned as its run ended (or the worker
		// stopped): the task is dropped or handed back.
		ts.ended = true
		if m := ts.e.tel.Metrics(); m != nil {
			m.StepFinished(v.run.workflow, ts.action, telemetry.OutcomeCancelled, now.Sub(ts.started))
		}
		ts.end(v, now, true)
		return
	}
	ts.end(v, now, false)
}

func (ts *stepTrace) end(v *vm, at time.Time, cancelled bool) {
	if !ts.step.On() {
		return
	}
	ts.step.Transition(v.tr, at)
	ts.step.End(at, cancelled)
	ts.step = telemetry.Step{}
}

// stepLog returns the logger of a step: its lines carry the run, node,
// attempt and trace id. A runner's short tasks share one logger whose
// fields change from step to step (see telemetry.StepFields).
func (e *Engine) stepLog(rs *runnerState, v *vm, node string, attempt int) *slog.Logger {
	tr := v.run.tel.trace
	if tr == "" && e.tel.Tracing() {
		// The trace every worker derives for the run (see stepTrace.start).
		tr = telemetry.DerivedTrace(v.run.id)
	}
	if rs == nil {
		return telemetry.NewStepLogger(e.logger.Handler(),
			&telemetry.StepFields{Run: v.run.id, Node: node, Attempt: attempt, Trace: tr})
	}
	if rs.logger == nil {
		rs.logger = telemetry.NewStepLogger(e.logger.Handler(), &rs.fields)
	}
	rs.fields = telemetry.StepFields{Run: v.run.id, Node: node, Attempt: attempt, Trace: tr}
	return rs.logger
}
