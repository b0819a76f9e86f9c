package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/dsl"
	"github.com/skript-dev/skript/store"
)

// A retry is a new run of the same Blueprint with the same inputs that
// starts with the records of what the earlier run completed, copied and
// marked Reused. It runs from the top like any run: control instructions
// are evaluated again (they cost no task), and at a Task or a Wait whose
// record in the token's frame is a reused one the VM takes the recorded
// outcome instead of queueing work. So only the nodes that did not
// complete, or that a restart point says to run again, run; a loop runs
// only its iterations that did not complete, a Parallel only its branches.
// docs/retry.md holds the contract.

// RetryOptions say where a retry starts.
type RetryOptions struct {
	// From names a node to run again, with every node after it, even
	// where the earlier run completed them. Empty: only what did not
	// complete runs again (the failed node, what was cancelled, what
	// never started).
	From string
}

// Errors of Retry, to test with errors.Is (or errors.As for the two error
// types, which also match ErrUnknownNode and ErrNotRestartPoint).
var (
	// ErrRunNotFound: no run has this id (the error also wraps the
	// store's store.ErrNotFound).
	ErrRunNotFound = errors.New("run not found")
	// ErrRunNotEnded: the run is still going; cancel it or wait for it.
	ErrRunNotEnded = errors.New("run has not ended")
	// ErrNothingToRetry: the run succeeded and no restart point was given.
	ErrNothingToRetry = errors.New("nothing to retry")
	// ErrUnknownNode: RetryOptions.From names no node of the workflow
	// (see UnknownNodeError).
	ErrUnknownNode = errors.New("unknown node")
	// ErrNotRestartPoint: RetryOptions.From names a node a run cannot be
	// restarted from (see RestartPointError).
	ErrNotRestartPoint = errors.New("not a restart point")
)

// UnknownNodeError says that a restart point names no node, with the
// nearest node ids as suggestions ("did you mean").
type UnknownNodeError struct {
	Node     string
	Workflow string
	// Suggestions are node ids the caller may have meant, best first
	// (possibly none).
	Suggestions []string
}

func (e *UnknownNodeError) Error() string {
	msg := fmt.Sprintf("workflow %q has no node %q", e.Workflow, e.Node)
	switch len(e.Suggestions) {
	case 0:
	case 1:
		msg += fmt.Sprintf("; did you mean %q?", e.Suggestions[0])
	default:
		q := make([]string, len(e.Suggestions))
		for i, s := range e.Suggestions {
			q[i] = fmt.Sprintf("%q", s)
		}
		msg += "; did you mean one of " + strings.Join(q, ", ") + "?"
	}
	return msg
}

// Is makes errors.Is(err, ErrUnknownNode) hold.
func (e *UnknownNodeError) Is(target error) bool { return target == ErrUnknownNode }

// RestartPointError says that a node exists but a run cannot be restarted
// from it, and why.
type RestartPointError struct {
	Node   string
	Reason string
}

func (e *RestartPointError) Error() string {
	return fmt.Sprintf("node %q cannot be a restart point: %s", e.Node, e.Reason)
}

// Is makes errors.Is(err, ErrNotRestartPoint) hold.
func (e *RestartPointError) Is(target error) bool { return target == ErrNotRestartPoint }

// refusal is a refused retry: its own message, matching the sentinels
// (and the store's error) it wraps.
type refusal struct {
	msg  string
	errs []error
}

func (r *refusal) Error() string { return r.msg }

func (r *refusal) Unwrap() []error { return r.errs }

func refuse(errs []error, format string, args ...any) error {
	return &refusal{msg: fmt.Sprintf(format, args...), errs: errs}
}

// Retry starts a new run that retries the ended run runID: the same
// Blueprint (by hash) and inputs, with store.Run.RetryOf set to runID,
// which keeps what the earlier run completed and runs the rest (see
// RetryOptions and docs/retry.md). Workers execute it like any run.
func (e *Engine) Retry(ctx context.Context, runID string, opts RetryOptions) (*Run, error) {
	old, err := e.store.GetRun(ctx, runID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, refuse([]error{ErrRunNotFound, err}, "retry: no run %q on this store", runID)
		}
		return nil, fmt.Errorf("retry: read run %q: %w", runID, err)
	}
	if !old.Status.Done() {
		return nil, refuse([]error{ErrRunNotEnded}, "retry: run %q is still %s; wait for it to end or cancel it", runID, old.Status)
	}
	p, err := e.programs.get(ctx, e.store, old.Hash)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			// Not wrapped: the run exists, so this must not read as an
			// unknown run.
			return nil, fmt.Errorf("retry: run %q: its Blueprint %s is no longer stored (%s)", runID, old.Hash, err.Error())
		}
		return nil, fmt.Errorf("retry: run %q: %w", runID, err)
	}
	var rerun []bool
	if opts.From != "" {
		if rerun, err = restartSet(p.bp, opts.From); err != nil {
			return nil, fmt.Errorf("retry: %w", err)
		}
	} else if old.Status == store.Succeeded {
		return nil, refuse([]error{ErrNothingToRetry}, "retry: run %q succeeded: nothing to run again; name a node to restart from", runID)
	}
	recs, err := e.store.AllRecords(ctx, runID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			// The run's retention ran out just now.
			return nil, refuse([]error{ErrRunNotFound, err}, "retry: no run %q on this store", runID)
		}
		return nil, fmt.Errorf("retry: read the records of run %q: %w", runID, err)
	}
	kept := keptRecords(p.bp, recs, rerun)
	data, err := p.encoded()
	if err != nil {
		return nil, err
	}
	// Stored again: the earlier run's retention may drop it meanwhile.
	if err := e.store.PutBlueprint(ctx, old.Hash, data); err != nil {
		return nil, fmt.Errorf("store blueprint: %w", err)
	}
	hdr := &store.Run{ID: NewRunID(), Workflow: old.Workflow, Version: old.Version, Hash: old.Hash,
		Inputs: old.Inputs, Status: store.Running, Created: time.Now(), RetryOf: old.ID}
	e.traceRun(ctx, hdr)
	if err := e.checkFinishing(p.bp); err != nil {
		return nil, err
	}
	return e.createRun(ctx, p, hdr, kept)
}

// restartSet checks a restart point and returns the nodes that run again
// from it.
func restartSet(bp *blueprint.Blueprint, id string) ([]bool, error) {
	node := int32(-1)
	for i := range bp.Nodes {
		if bp.Nodes[i].ID == id {
			node = int32(i)
			break
		}
	}
	if node < 0 {
		return nil, &UnknownNodeError{Node: id, Workflow: bp.Name, Suggestions: suggestNodes(bp, id)}
	}
	if bp.CatchOnly()[node] {
		owner := catchOwner(bp, node)
		reason := "it is in a catch block, which runs only when its Action fails"
		if owner != "" {
			reason += fmt.Sprintf("; restart from %q", owner)
		}
		return nil, &RestartPointError{Node: id, Reason: reason}
	}
	set := bp.RestartSet(node)
	if set == nil {
		return nil, &RestartPointError{Node: id, Reason: "the compiler removed it (it can never run)"}
	}
	return set, nil
}

// suggestNodes returns the node ids id most likely means: the ids of the
// inlined copies of a function's node (CALLID.ID), else the nearest id.
func suggestNodes(bp *blueprint.Blueprint, id string) []string {
	ids := make([]string, 0, len(bp.Nodes))
	var inlined []string
	for i := range bp.Nodes {
		n := bp.Nodes[i].ID
		ids = append(ids, n)
		if strings.HasSuffix(n, "."+id) {
			inlined = append(inlined, n)
		}
	}
	if len(inlined) > 0 {
		slices.Sort(inlined)
		return inlined
	}
	if s := dsl.Suggest(id, ids); s != "" {
		return []string{s}
	}
	return nil
}

// catchOwner names the Action whose catch block holds node, or "".
func catchOwner(bp *blueprint.Blueprint, node int32) string {
	for pc := range bp.Code {
		in := &bp.Code[pc]
		for k := range in.Steps {
			st := &in.Steps[k]
			if st.Catch < 0 {
				continue
			}
			// The catch block runs from st.Catch to the Leave that
			// closes it for st.Node.
			for c := int(st.Catch); c < len(bp.Code); c++ {
				ci := &bp.Code[c]
				if ci.Op == blueprint.OpLeave && ci.Failed && ci.Node == st.Node {
					break
				}
				if ci.Node == node || slices.ContainsFunc(ci.Steps, func(s blueprint.Step) bool { return s.Node == node }) {
					return bp.Nodes[st.Node].ID
				}
			}
		}
	}
	return ""
}

// keptRecords returns copies, marked Reused, of the records of recs that
// a retry keeps: those of Actions and Waits that completed, that rerun
// (when not nil) does not name, and that are not finally nodes (which run
// again at every end). An Action completed when it succeeded, or
// when it failed and its failure was handled (on_error: continue, or a
// catch block, which then runs again where it did not complete); a Wait
// when it fired.
func keptRecords(bp *blueprint.Blueprint, recs []*store.Record, rerun []bool) []*store.Record {
	index := make(map[string]int32, len(bp.Nodes))
	for i := range bp.Nodes {
		index[bp.Nodes[i].ID] = int32(i)
	}
	handled := make([]bool, len(bp.Nodes))
	for pc := range bp.Code {
		for _, st := range bp.Code[pc].Steps {
			if st.Node >= 0 && int(st.Node) < len(handled) && (st.Continue && !st.Contain || st.Catch >= 0) {
				handled[st.Node] = true
			}
		}
	}
	final := finallyNodes(bp)
	var kept []*store.Record
	for _, r := range recs {
		if r == nil {
			continue
		}
		n, ok := index[r.Key]
		if !ok || (rerun != nil && rerun[n]) || final[n] {
			continue
		}
		switch bp.Nodes[n].Kind {
		case "Action":
			if r.Status != store.Succeeded && (r.Status != store.Failed || !handled[n]) {
				continue
			}
		case "Wait":
			if r.Status != store.Succeeded {
				continue
			}
		default:
			continue
		}
		cp := *r
		cp.Reused = true
		kept = append(kept, &cp)
	}
	// Records come in no particular order from a store; sorted, the new
	// run's first transition is the same whatever the store.
	slices.SortFunc(kept, func(a, b *store.Record) int {
		if c := strings.Compare(a.Frame, b.Frame); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return kept
}

// reuseTask is the VM at a Task of a retried run: the leading steps whose
// records in t's frame are reused ones are not run again; their recorded
// outcome is taken instead. It reports true when every step was reused (t
// has moved on: past the Task, or into the catch block of a step whose
// handled failure was reused), false when the token stopped at the first
// step to run.
func (v *vm) reuseTask(t *token, in *blueprint.Instr, last *any) (bool, error) {
	keys := make([]store.RecordKey, len(in.Steps))
	for k := range in.Steps {
		keys[k] = v.nodeKey(t.frame, in.Steps[k].Node)
	}
	recs, err := v.readRecords(keys)
	if err != nil {
		return false, err
	}
	for k := range in.Steps {
		st := &in.Steps[k]
		r := recs[k]
		switch {
		case r == nil || !r.Reused:
		case r.Status == store.Succeeded || (r.Status == store.Failed && st.Continue):
			*last = r.Output
			continue
		case r.Status == store.Failed && st.Catch >= 0:
			t.pc, *last = st.Catch, nil
			return true, nil
		}
		if k == 0 {
			v.stopAt(*t, store.Exec, time.Time{})
		} else {
			v.stopAtStep(*t, int32(k), 1, time.Time{})
		}
		return false, nil
	}
	t.pc++
	return true, nil
}

// reuseWait is the VM at a Wait of a retried run: a Wait that fired in the
// earlier run does not wait again. It reports true when t has moved past it.
func (v *vm) reuseWait(t *token, in *blueprint.Instr) (bool, error) {
	recs, err := v.readRecords([]store.RecordKey{v.nodeKey(t.frame, in.Node)})
	if err != nil {
		return false, err
	}
	if r := recs[0]; r != nil && r.Reused && r.Status == store.Succeeded {
		t.pc++
		return true, nil
	}
	return false, nil
}
