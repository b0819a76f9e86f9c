package runtime

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/skript-dev/skript/blueprint"
	skexpr "github.com/skript-dev/skript/expr"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/value"
)

// maxInline bounds the control instructions one transition may run, so a
// loop with no Task in its body cannot spin a worker forever.
const maxInline = 1_000_000

// token is a thread of control while a transition is being computed.
type token struct {
	id    string
	seq   uint32 // the sequence the token had when the transition started
	pc    int32
	frame string
	group string
	slot  int32
}

// vm computes one transition. It reads records through the store, sees its
// own writes first, and collects everything it changes in tr.
//
// A worker goroutine that runs many short tasks keeps one vm and resets it
// for each (reset), so the vm itself, its pending list and its overlay
// cost nothing per task; what a transition hands to the store comes from
// small slabs (newRecord, newTask) and, for the common one-step task, from
// one allocation holding the transition and its short lists (trBuf).
type vm struct {
	ctx   context.Context
	st    store.Store
	p     *program
	run   *runInfo
	tr    *store.Transition
	now   time.Time
	steps int
	// pending are child tokens started by this transition and not yet advanced.
	pending []pendingToken
	// overlay indexes tr.Records by key once a transition has more than a
	// few (overlaid of them so far); with fewer, reads scan tr.Records.
	overlay  map[store.RecordKey]*store.Record
	overlaid int
	buf      *trBuf
	recSlab  []store.Record
	taskSlab []store.Task
	// cur is the step running, which its log lines name.
	cur stepRef
}

// nodeFailure fails a node and, with it, the run.
type nodeFailure struct {
	node int32
	err  error
}

func (f *nodeFailure) Error() string { return f.err.Error() }

func (f *nodeFailure) Unwrap() error { return f.err }

func (v *vm) nodeKey(frame string, node int32) store.RecordKey {
	return store.RecordKey{Frame: framePrefix(frame, v.p.depth[node]), Key: v.p.bp.Nodes[node].ID}
}

// readRecords returns records, from this transition's writes or the store.
func (v *vm) readRecords(keys []store.RecordKey) ([]*store.Record, error) {
	out := make([]*store.Record, len(keys))
	var miss []store.RecordKey
	var missAt []int
	for i, k := range keys {
		if r, ok := v.written(k); ok {
			out[i] = r
			continue
		}
		miss = append(miss, k)
		missAt = append(missAt, i)
	}
	if len(miss) > 0 && !v.run.unstored {
		got, err := v.st.Records(v.ctx, v.run.id, miss)
		if err != nil {
			return nil, &storeError{err}
		}
		for j, r := range got {
			out[missAt[j]] = r
		}
	}
	return out, nil
}

// stopAt leaves the token waiting at a Task or Wait: its sequence moves on.
func (v *vm) stopAt(t token, kind store.TaskKind, at time.Time) {
	seq := t.seq + 1
	v.setToken(t.id, seq)
	task := v.newTask()
	*task = store.Task{
		Run: v.run.id, Hash: v.p.bp.Hash, Kind: kind, Token: t.id, Seq: seq, PC: t.pc,
		Attempt: 1, Frame: t.frame, Group: t.group, Slot: t.slot, At: at, Trace: v.run.tel.trace,
	}
	v.addTask(task)
}

// stopAtStep leaves the token waiting at step step of the Task at t.pc,
// as a new queue entry for that attempt, ready at at (zero: now).
func (v *vm) stopAtStep(t token, step, attempt int32, at time.Time) {
	seq := t.seq + 1
	v.setToken(t.id, seq)
	task := v.newTask()
	*task = store.Task{
		Run: v.run.id, Hash: v.p.bp.Hash, Kind: store.Exec, Token: t.id, Seq: seq, PC: t.pc,
		Step: step, Attempt: attempt, Frame: t.frame, Group: t.group, Slot: t.slot, At: at, Trace: v.run.tel.trace,
	}
	v.addTask(task)
}

// end drops a token that has finished its part.
func (v *vm) end(t token) {
	if v.tr.Drop == nil {
		v.tr.Drop = v.buf.drop[:0]
	}
	v.tr.Drop = append(v.tr.Drop, t.id)
}

// fail ends the run because node failed, t in the frame it failed in.
func (v *vm) fail(t token, node int32, err error) {
	id := ""
	if node >= 0 {
		id = v.p.bp.Nodes[node].ID
		info := errorInfo(id, err)
		v.record(store.Record{RecordKey: v.nodeKey(t.frame, node), Status: store.Failed, Error: info, Finished: v.now})
		if v.trapFail(t, node, info) {
			return
		}
		v.failParents(t.frame, node, info)
	}
	v.tr.End = &store.RunEnd{Status: store.Failed, Error: errorInfo(id, err)}
}

// failParents records the composite nodes around node (a token of which
// failed the run in frame) as failed with the node's error. The run's end
// marks the records still running cancelled: that is right for the work
// the failure merely stopped, not for the Loop, Parallel, If, Switch or
// Call that failed because a node inside it did. Their Started is left
// zero, so the store keeps the time they were entered.
func (v *vm) failParents(frame string, node int32, info *store.ErrorInfo) {
	// The bound guards against a foreign Blueprint whose parents loop.
	for p, n := v.p.parent[node], 0; p >= 0 && n < len(v.p.parent); p, n = v.p.parent[p], n+1 {
		v.record(store.Record{RecordKey: v.nodeKey(frame, p), Status: store.Failed, Error: info, Finished: v.now})
	}
}

// advance runs control instructions from t.pc until every token it touches
// stops, then drains child tokens started on the way.
func (v *vm) advance(t token, last any) error {
	// The token itself goes first (pending is empty when advance is
	// called), without a trip through the pending list: most transitions
	// advance this one token and nothing else.
	if v.tr.End == nil {
		if done, err := v.stepped(t, last); done {
			return err
		}
	}
	for len(v.pending) > 0 && v.tr.End == nil {
		n := len(v.pending) - 1
		pt := v.pending[n]
		if f := pt.fan; f != nil {
			// The next child; the rest stay below whatever it starts, so
			// children are advanced depth first, in slot order.
			pt = pendingToken{t: f.child(f.next)}
			f.next++
			if f.next >= f.end {
				v.pending[n] = pendingToken{}
				v.pending = v.pending[:n]
			}
		} else {
			v.pending[n] = pendingToken{}
			v.pending = v.pending[:n]
		}
		if done, err := v.stepped(pt.t, pt.last); done {
			return err
		}
	}
	return nil
}

// stepped steps one token; done says the transition is over (a node
// failed and ended the run, or err is to be returned).
func (v *vm) stepped(t token, last any) (done bool, err error) {
	err = v.step(&t, last)
	if err == nil {
		return false, nil
	}
	// A store that cannot be read is not the node's fault: the task goes
	// back to the queue.
	var se *storeError
	if errors.As(err, &se) {
		return true, se
	}
	var nf *nodeFailure
	if errors.As(err, &nf) {
		v.fail(t, nf.node, nf.err)
		return true, nil
	}
	return true, err
}

// step advances one token until it stops. t is left where it stopped or
// failed, in the frame it had then (a while loop moves it inline).
func (v *vm) step(t *token, last any) error {
	code := v.p.bp.Code
	for {
		v.steps++
		if v.steps > maxInline {
			return &nodeFailure{node: code[t.pc].Node, err: fmt.Errorf("more than %d control steps without a task (a loop that never runs an action?)", maxInline)}
		}
		if t.pc < 0 || int(t.pc) >= len(code) {
			return fmt.Errorf("pc %d out of range", t.pc)
		}
		in := &code[t.pc]
		switch in.Op {
		case blueprint.OpNop:
			t.pc++
		case blueprint.OpTask:
			if v.run.retryOf != "" {
				on, err := v.reuseTask(t, in, &last)
				if err != nil {
					return err
				}
				if on {
					continue
				}
				return nil
			}
			v.stopAt(*t, store.Exec, time.Time{})
			return nil
		case blueprint.OpJump:
			t.pc = in.Target
		case blueprint.OpBranch:
			ok, err := v.cond(*t, in)
			if err != nil {
				return err
			}
			if ok {
				t.pc++
			} else {
				t.pc = in.Target
			}
		case blueprint.OpEnter:
			key := v.nodeKey(t.frame, in.Node)
			v.record(store.Record{RecordKey: key, Status: store.Running, Started: v.now})
			if in.Expr >= 0 {
				args, err := v.eval(*t, in.Expr)
				if err == nil {
					args, err = value.Canonical(args)
				}
				if err != nil {
					return &nodeFailure{node: in.Node, err: err}
				}
				v.record(store.Record{RecordKey: store.RecordKey{Frame: key.Frame, Key: v.p.paramsKey[in.Node]}, Status: store.Succeeded, Output: args})
			}
			last = nil
			t.pc++
		case blueprint.OpLeave:
			if err := v.leave(*t, in, &last); err != nil {
				return err
			}
			t.pc++
		case blueprint.OpFork:
			v.fork(*t, in)
			return nil
		case blueprint.OpMap:
			done, err := v.mapStart(*t, in, &last)
			if err != nil {
				return err
			}
			if !done {
				return nil
			}
			t.pc = in.Target
		case blueprint.OpJoin:
			v.end(*t)
			v.arrive(t.group, t.slot, last)
			return nil
		case blueprint.OpWait:
			if v.run.retryOf != "" {
				on, err := v.reuseWait(t, in)
				if err != nil {
					return err
				}
				if on {
					last = nil
					continue
				}
			}
			at, err := v.waitUntil(*t, in)
			if err != nil {
				return &nodeFailure{node: in.Node, err: err}
			}
			key := v.nodeKey(t.frame, in.Node)
			v.record(store.Record{RecordKey: key, Status: store.Running, Started: v.now})
			v.waitStarted(key, at)
			v.stopAt(*t, store.Timer, at)
			return nil
		case blueprint.OpWhile:
			next, err := v.while(t, in, &last)
			if err != nil {
				return err
			}
			t.pc = next
		case blueprint.OpNext:
			name, k, ok := lastSegment(t.frame)
			if !ok || name != v.p.bp.Nodes[in.Node].ID {
				return fmt.Errorf("pc %d: Next outside its loop (frame %q)", t.pc, t.frame)
			}
			v.record(store.Record{RecordKey: store.RecordKey{Frame: t.frame, Key: v.p.iterKey[in.Node]}, Status: store.Succeeded, Output: last})
			parent := framePrefix(t.frame, frameDepth(t.frame)-1)
			t.frame = frameJoin(parent, name+"["+strconv.Itoa(k+1)+"]")
			t.pc = in.Target
		case blueprint.OpEnd:
			v.end(*t)
			if store.InFinally(t.id) {
				// The run's output is the one it came to (finalEnd).
				v.tr.End = &store.RunEnd{Status: store.Succeeded}
				return nil
			}
			out := last
			if v.p.bp.Output >= 0 {
				val, err := v.eval(*t, v.p.bp.Output)
				if err == nil {
					val, err = value.Canonical(val)
				}
				if err != nil {
					var se *storeError
					if errors.As(err, &se) {
						return se
					}
					// A broken output expression fails the run, not the worker.
					v.tr.End = &store.RunEnd{Status: store.Failed, Error: &store.ErrorInfo{Message: "output: " + err.Error()}}
					return nil //nolint:nilerr // the error is recorded as the run's failure
				}
				out = val
			}
			v.tr.End = &store.RunEnd{Status: store.Succeeded, Output: out}
			return nil
		case blueprint.OpRace:
			v.race(*t, in)
			return nil
		case blueprint.OpWin:
			v.end(*t)
			v.arrive(blueprint.RaceWinGroup(t.group), 0, map[string]any{"branch": int(t.slot), "output": last})
			return nil
		case blueprint.OpWon:
			if err := v.won(*t, in, &last); err != nil {
				return err
			}
			t.pc++
		case blueprint.OpCollect:
			next, err := v.collect(t, in, &last)
			if err != nil {
				return err
			}
			t.pc = next
		case blueprint.OpBreak:
			if err := v.breakLoop(t, in, &last); err != nil {
				return err
			}
			t.pc = in.Target
		case blueprint.OpGraph, blueprint.OpTrigger, blueprint.OpSignal, blueprint.OpCheck, blueprint.OpSkip:
			stop, err := v.graphStep(t, in, &last)
			if stop || err != nil {
				return err
			}
		default:
			return fmt.Errorf("pc %d: unknown instruction %v", t.pc, in.Op)
		}
	}
}

// arrive hands a child token's value to its group. The first arrival of
// a transition is kept in its buffer; only more cost an allocation.
func (v *vm) arrive(group string, slot int32, value any) {
	if v.tr.Arrivals == nil {
		v.buf.arr = store.Arrival{Group: group, Slot: slot, Value: value}
		v.buf.arrs[0] = &v.buf.arr
		v.tr.Arrivals = v.buf.arrs[:1]
		return
	}
	v.tr.Arrivals = append(v.tr.Arrivals, &store.Arrival{Group: group, Slot: slot, Value: value})
}

func (v *vm) cond(t token, in *blueprint.Instr) (bool, error) {
	val, err := v.eval(t, in.Expr)
	if err != nil {
		return false, &nodeFailure{node: in.Node, err: err}
	}
	b, ok := val.(bool)
	if !ok && val != nil {
		return false, &nodeFailure{node: in.Node, err: v.typeError(in.Expr, "condition %q is a %s, not a boolean",
			strings.TrimSpace(v.p.bp.Exprs[in.Expr].Src), value.TypeName(val))}
	}
	return b, nil
}

func (v *vm) leave(t token, in *blueprint.Instr, last *any) error {
	key := v.nodeKey(t.frame, in.Node)
	rec := store.Record{RecordKey: key, Status: store.Succeeded, Output: *last, Finished: v.now}
	if in.Wrap {
		rec.Output = []any{*last}
		*last = rec.Output
	}
	if in.Failed {
		rec.Status = store.Failed
		old, err := v.readRecords([]store.RecordKey{key})
		if err != nil {
			return err
		}
		if old[0] != nil {
			rec.Error, rec.Attempts = old[0].Error, old[0].Attempts
		}
	}
	v.record(rec)
	return nil
}

func (v *vm) groupID(t token) string {
	return t.id + ":" + strconv.FormatUint(uint64(t.seq+1), 10)
}

// wait makes the token wait for a group; it resumes at pc with last = the
// group's list.
func (v *vm) wait(t token, g *store.Group, resume int32) {
	seq := t.seq + 1
	v.setToken(t.id, seq)
	res := g.Result
	g.Parent = &store.Task{Run: v.run.id, Hash: v.p.bp.Hash, Kind: store.Resume, Token: t.id, Seq: seq, PC: resume,
		Frame: t.frame, Group: t.group, Slot: t.slot, Last: &res, Trace: v.run.tel.trace}
	v.tr.Groups = append(v.tr.Groups, g)
}

func (v *vm) fork(t token, in *blueprint.Instr) {
	n := len(in.Targets)
	g := &store.Group{ID: v.groupID(t), Total: n, Started: started(n, in.Concurrency),
		ChildPCs: in.Targets, Frame: t.frame, Result: v.nodeKey(t.frame, in.Node)}
	v.record(store.Record{RecordKey: g.Result, Status: store.Running, Started: v.now})
	v.wait(t, g, in.Target)
	v.reserve(0, g.Started)
	if g.Started > 0 {
		f := newFanout(g)
		f.pcs, f.frame = in.Targets, t.frame
		v.pending = append(v.pending, pendingToken{fan: f})
	}
}

func started(n, conc int) int {
	if conc > 0 && conc < n {
		return conc
	}
	return n
}

// mapStart begins a for_each loop. It reports done when the list was empty
// and the token goes straight on.
func (v *vm) mapStart(t token, in *blueprint.Instr, last *any) (bool, error) {
	// Each item is recorded for the body to read as `item`, unless no
	// expression reads it: then only the list's length matters, and the
	// list is not even normalized.
	useItem := v.p.itemUsed[in.Node]
	var items []any
	var n int
	if useItem {
		val, err := v.eval(t, in.Expr)
		if err != nil {
			return false, &nodeFailure{node: in.Node, err: err}
		}
		if items, err = toList(val); err != nil {
			return false, &nodeFailure{node: in.Node, err: v.typeError(in.Expr, "for_each: %v", err)}
		}
		// Each item is kept in a record: it must read back the same on
		// every store.
		for i, it := range items {
			if items[i], err = value.Canonical(it); err != nil {
				return false, &nodeFailure{node: in.Node, err: fmt.Errorf("for_each: item %d: %w", i, err)}
			}
		}
		n = len(items)
	} else {
		val, err := v.evalRaw(t, in.Expr)
		if err != nil {
			return false, &nodeFailure{node: in.Node, err: err}
		}
		var ok bool
		if n, ok = listLen(val); !ok {
			// Not a list: word the error as for a normalized value.
			_, err := toList(value.Normalize(val))
			if err == nil {
				err = fmt.Errorf("want a list, got %s", value.TypeName(val))
			}
			return false, &nodeFailure{node: in.Node, err: v.typeError(in.Expr, "for_each: %v", err)}
		}
	}
	key := v.nodeKey(t.frame, in.Node)
	if in.Max > 0 && n > in.Max {
		return false, &nodeFailure{node: in.Node, err: fmt.Errorf("for_each list has %d elements, over max_iterations (%d)", n, in.Max)}
	}
	if n == 0 {
		*last = []any{}
		v.record(store.Record{RecordKey: key, Status: store.Succeeded, Output: []any{}, Started: v.now, Finished: v.now})
		return true, nil
	}
	base := frameJoin(t.frame, v.p.bp.Nodes[in.Node].ID)
	g := &store.Group{ID: v.groupID(t), Total: n, Started: started(n, in.Concurrency),
		BodyPC: t.pc + 1, FrameBase: base, Result: key}
	// Each child started now gets a token and (most often) a task.
	v.reserve(1+len(items), g.Started)
	v.record(store.Record{RecordKey: key, Status: store.Running, Started: v.now})
	itemKey := v.p.itemKey[in.Node]
	frames := childNames(base, '[', ']', n)
	if useItem {
		for i, it := range items {
			v.record(store.Record{RecordKey: store.RecordKey{Frame: frames[i], Key: itemKey}, Status: store.Succeeded, Output: it})
		}
	}
	v.wait(t, g, in.Target)
	if g.Started > 0 {
		f := newFanout(g)
		f.bodyPC, f.frames = t.pc+1, frames
		v.pending = append(v.pending, pendingToken{fan: f})
	}
	return false, nil
}

// listLen returns the length of a list value (nil is empty), or false.
func listLen(val any) (int, bool) {
	switch l := val.(type) {
	case []any:
		return len(l), true
	case nil:
		return 0, true
	}
	rv := reflect.ValueOf(val)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return 0, false
	}
	return rv.Len(), true
}

// typeError is a run-time error about the value of expression i, at the
// position of that expression in the workflow, so that the message says
// which field to look at.
func (v *vm) typeError(i int32, format string, args ...any) error {
	return &skexpr.Error{Pos: v.p.bp.Exprs[i].Pos, Msg: fmt.Sprintf(format, args...)}
}

func toList(val any) ([]any, error) {
	switch l := val.(type) {
	case []any:
		return l, nil
	case nil:
		return nil, nil
	}
	rv := reflect.ValueOf(val)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("want a list, got %s", value.TypeName(val))
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, nil
}

// while runs the head of a while loop and returns the next pc.
func (v *vm) while(t *token, in *blueprint.Instr, last *any) (int32, error) {
	id := v.p.bp.Nodes[in.Node].ID
	name, k, ok := lastSegment(t.frame)
	if !ok || name != id || frameDepth(t.frame) != v.p.depth[in.Node]+1 {
		t.frame = frameJoin(t.frame, id+"[0]")
		k = 0
	}
	holds := true
	if !in.Until || k > 0 {
		ok, err := v.cond(*t, in)
		if err != nil {
			return 0, err
		}
		// An until condition ends the loop when it holds.
		holds = ok != in.Until
	}
	if holds {
		if in.Max > 0 && k >= in.Max {
			return 0, &nodeFailure{node: in.Node, err: fmt.Errorf("loop %q exceeded max_iterations (%d)", id, in.Max)}
		}
		return t.pc + 1, nil
	}
	if err := v.whileExit(t, in, k, last); err != nil {
		return 0, err
	}
	return in.Target, nil
}

// whileExit leaves a while loop after n iterations: it pops the token's
// frame and records the loop's output, the list of the iterations'
// values, which becomes last.
func (v *vm) whileExit(t *token, in *blueprint.Instr, n int, last *any) error {
	id := v.p.bp.Nodes[in.Node].ID
	parent := framePrefix(t.frame, frameDepth(t.frame)-1)
	keys := make([]store.RecordKey, n)
	for i := range keys {
		keys[i] = store.RecordKey{Frame: frameJoin(parent, id+"["+strconv.Itoa(i)+"]"), Key: v.p.iterKey[in.Node]}
	}
	recs, err := v.readRecords(keys)
	if err != nil {
		return err
	}
	list := make([]any, n)
	for i, r := range recs {
		if r != nil {
			list[i] = r.Output
		}
	}
	t.frame = parent
	*last = list
	v.record(store.Record{RecordKey: v.nodeKey(parent, in.Node), Status: store.Succeeded, Output: list, Finished: v.now})
	return nil
}

func (v *vm) waitUntil(t token, in *blueprint.Instr) (time.Time, error) {
	val, err := v.eval(t, in.Expr)
	if err != nil {
		return time.Time{}, err
	}
	if in.Until {
		switch x := val.(type) {
		case time.Time:
			return x, nil
		case string:
			at, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return time.Time{}, v.typeError(in.Expr, "until: %q is not an RFC 3339 time", x)
			}
			return at, nil
		}
		return time.Time{}, v.typeError(in.Expr, "until: want an RFC 3339 time, got %s", value.TypeName(val))
	}
	var d time.Duration
	switch x := val.(type) {
	case string:
		d, err = time.ParseDuration(x)
		if err != nil {
			return time.Time{}, v.typeError(in.Expr, "duration: %q is not a duration like \"300ms\"", x)
		}
	case time.Duration:
		d = x
	default:
		return time.Time{}, v.typeError(in.Expr, "duration: want a duration like \"300ms\", got %s", value.TypeName(val))
	}
	return v.now.Add(d), nil
}
