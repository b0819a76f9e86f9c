package telemetry

import (
	"context"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/skript-dev/skript/store"
)

// Attribute keys. The workflow.* keys are the proposed OpenTelemetry
// workflow conventions, the messaging.* keys the messaging conventions (a
// step attempt is the processing of one queue entry); skript.* are this
// program's own. No payload (inputs, params, outputs) is ever an attribute.
const (
	attrWorkflowName    = "workflow.name"
	attrWorkflowVersion = "workflow.version"
	attrExecutionID     = "workflow.execution.id"
	attrOutcome         = "workflow.execution.outcome"
	attrTaskName        = "workflow.task.name"
	attrMsgSystem       = "messaging.system"
	attrMsgOperation    = "messaging.operation.type"
	attrMsgClient       = "messaging.client.id"
	attrMsgDeliveries   = "messaging.message.delivery_count"
	attrNode            = "skript.node"
	attrFrame           = "skript.frame"
	attrAction          = "skript.action"
	attrAttempt         = "skript.attempt"
	attrWorker          = "skript.worker"
	attrPartition       = "skript.partition"
)

// RunSpan describes a run for its span.
type RunSpan struct {
	ID       string
	Workflow string
	Version  string
	// Trace is the run header's traceparent (store.Run's Trace).
	Trace   string
	Created time.Time
}

// StartTrace returns the traceparent to keep with a new run: ctx's span
// context when it has one, else, with tracing on, a new trace whose
// parent-id is the run span's own id (the run span is the trace's root),
// else "" (no trace, and no cost). The new trace's sampling decision is the
// configured sampler's, taken as the run starts.
func (t *Telemetry) StartTrace(ctx context.Context, runID, workflow string) string {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return FormatTraceparent(sc)
	}
	if !t.Tracing() {
		return ""
	}
	tid, _ := idGenerator{}.NewIDs(context.Background())
	fctx := context.WithValue(ctx, forcedKey{}, forcedIDs{trace: tid, span: RunSpanID(runID)})
	// The span asks the sampler and is dropped unended, so it is never
	// exported: the run span proper is emitted as the run ends.
	_, probe := t.tracer.Start(fctx, runSpanName(workflow), trace.WithNewRoot())
	return FormatTraceparent(probe.SpanContext())
}

func runSpanName(workflow string) string { return "run " + workflow }

// RunEnded emits a run's span, from its creation to ended, with its
// outcome (a store.Status) and error message. The process that applies
// the transition ending a run (or cancels it) calls it.
func (t *Telemetry) RunEnded(ctx context.Context, r RunSpan, status store.Status, errMsg string, ended time.Time) {
	if !t.Tracing() {
		return
	}
	sc, ok := ParseTraceparent(r.Trace)
	if !ok {
		return
	}
	own := RunSpanID(r.ID)
	f := forcedIDs{span: own}
	opts := []trace.SpanStartOption{trace.WithTimestamp(r.Created), trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String(attrWorkflowName, r.Workflow), attribute.String(attrExecutionID, r.ID),
			attribute.String(attrOutcome, string(status)))}
	if r.Version != "" {
		opts = append(opts, trace.WithAttributes(attribute.String(attrWorkflowVersion, r.Version)))
	}
	ctx = context.WithoutCancel(ctx)
	if sc.SpanID() == own {
		f.trace = sc.TraceID()
		opts = append(opts, trace.WithNewRoot())
	} else {
		ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	_, sp := t.tracer.Start(context.WithValue(ctx, forcedKey{}, f), runSpanName(r.Workflow), opts...)
	if status != store.Succeeded {
		sp.SetStatus(codes.Error, errMsg)
	}
	sp.End(trace.WithTimestamp(ended))
}

// StepInfo describes one step attempt for its span.
type StepInfo struct {
	Run      string
	Workflow string
	Node     string
	Frame    string
	Action   string
	Attempt  int
	Worker   string
	// Trace is the traceparent of the step's parent, the run span (the
	// task's Trace, else the one derived from the run's header).
	Trace string
	// Deliveries is how often the store has handed out the queue entry (0:
	// it does not count).
	Deliveries int32
	// Partition is the queue partition the task was leased from.
	Partition int32
	// Started is when the attempt started.
	Started time.Time
}

// Step is the span of one step attempt, open while the step runs and
// until its task's transition is computed (which adds the retries and
// waits it schedules as events). The zero Step is off.
type Step struct {
	t    *Telemetry
	span trace.Span
	// late: the step is of a loop iteration past MaxIterationSpans; it
	// has no span, and info is kept to make one after the fact if it
	// fails. (A value, not a pointer: a Step lives on its caller's stack.)
	late bool
	info StepInfo
}

// StartStep opens the span of a step attempt and returns the context the
// step's action runs with (so that the http action carries it on).
func (t *Telemetry) StartStep(ctx context.Context, s StepInfo) (context.Context, Step) {
	if !t.Tracing() {
		return ctx, Step{}
	}
	limit := t.MaxIterationSpans
	if limit == 0 {
		limit = DefaultMaxIterationSpans
	}
	if limit > 0 && maxIndex(s.Frame) >= limit {
		return ctx, Step{t: t, late: true, info: s}
	}
	parent, ok := ParseTraceparent(s.Trace)
	if !ok {
		return ctx, Step{}
	}
	ctx, sp := t.tracer.Start(trace.ContextWithRemoteSpanContext(ctx, parent), s.Node, stepOptions(&s)...)
	if s.Deliveries > 1 {
		sp.AddEvent("lease.taken_over", trace.WithTimestamp(s.Started),
			trace.WithAttributes(attribute.Int(attrMsgDeliveries, int(s.Deliveries))))
	}
	return ctx, Step{t: t, span: sp}
}

func stepOptions(s *StepInfo) []trace.SpanStartOption {
	attrs := []attribute.KeyValue{
		attribute.String(attrMsgSystem, "skript"), attribute.String(attrMsgOperation, "process"),
		attribute.String(attrWorkflowName, s.Workflow), attribute.String(attrExecutionID, s.Run),
		attribute.String(attrTaskName, s.Node), attribute.String(attrNode, s.Node),
		attribute.String(attrAction, s.Action), attribute.Int(attrAttempt, s.Attempt),
	}
	if s.Frame != "" {
		attrs = append(attrs, attribute.String(attrFrame, s.Frame))
	}
	if s.Worker != "" {
		attrs = append(attrs, attribute.String(attrWorker, s.Worker), attribute.String(attrMsgClient, s.Worker))
	}
	if s.Deliveries > 0 {
		attrs = append(attrs, attribute.Int(attrMsgDeliveries, int(s.Deliveries)))
	}
	attrs = append(attrs, attribute.Int(attrPartition, int(s.Partition)))
	return []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithTimestamp(s.Started), trace.WithAttributes(attrs...)}
}

// maxIndex is the largest loop index in a frame path ("lines[3]/r[12]"
// gives 12), -1 for none.
func maxIndex(frame string) int {
	best := -1
	for i := 0; i < len(frame); i++ {
		if frame[i] != '[' {
			continue
		}
		j := i + 1
		for j < len(frame) && frame[j] >= '0' && frame[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(frame[i+1 : j]); err == nil && n > best {
			best = n
		}
		i = j
	}
	return best
}

// On reports whether the step is traced.
func (s *Step) On() bool { return s.span != nil || s.late }

// Ended records the attempt's outcome as its action returns: err nil for
// success. A step past the iteration limit that failed gets its span now.
func (s *Step) Ended(err error, at time.Time) {
	if s.span == nil && s.late && err != nil {
		if parent, ok := ParseTraceparent(s.info.Trace); ok {
			_, s.span = s.t.tracer.Start(trace.ContextWithRemoteSpanContext(context.Background(), parent),
				s.info.Node, stepOptions(&s.info)...)
		}
	}
	if s.span == nil {
		return
	}
	if err != nil {
		s.span.SetStatus(codes.Error, err.Error())
		s.span.AddEvent("exception", trace.WithTimestamp(at), trace.WithAttributes(attribute.String("exception.message", err.Error())))
	}
}

// Event adds a span event (a retry scheduled, a wait started) at time at.
func (s *Step) Event(name string, at time.Time, attrs ...attribute.KeyValue) {
	if s.span != nil {
		s.span.AddEvent(name, trace.WithTimestamp(at), trace.WithAttributes(attrs...))
	}
}

// Transition adds, as events, what the task's transition schedules: a
// retry (an Exec task due later) and the Waits it enters (Timer tasks).
func (s *Step) Transition(tr *store.Transition, now time.Time) {
	if s.span == nil || tr == nil {
		return
	}
	for _, t := range tr.Tasks {
		switch {
		case t.Kind == store.Exec && !t.At.IsZero():
			s.span.AddEvent("retry.scheduled", trace.WithTimestamp(now), trace.WithAttributes(
				attribute.Int(attrAttempt, int(t.Attempt)), attribute.String("skript.retry.at", t.At.UTC().Format(time.RFC3339Nano))))
		case t.Kind == store.Timer:
			s.span.AddEvent("wait.started", trace.WithTimestamp(now), trace.WithAttributes(
				attribute.String(attrFrame, t.Frame), attribute.String("skript.wait.until", t.At.UTC().Format(time.RFC3339Nano))))
		}
	}
}

// End closes the span at end; cancelled says the step stopped because its
// run ended or its worker stopped.
func (s *Step) End(end time.Time, cancelled bool) {
	if s.span == nil {
		return
	}
	if cancelled {
		s.span.SetStatus(codes.Error, "cancelled")
	}
	s.span.End(trace.WithTimestamp(end))
	s.span = nil
}
