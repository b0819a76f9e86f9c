package runtime

import (
	"strconv"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/store"
)

// A Graph runs on the stores' one synchronisation primitive, the group: a
// counter that its last arrival completes, starting the group's parent
// task. The graph's own group collects every node's last value, as a
// Fork's does; each node that depends on others waits on a group of its
// own (blueprint.GraphGroup), whose parent task is the node's first
// token, and every node it depends on arrives there when it finishes
// (Signal). So the store's atomic transitions decide, exactly once, which
// finish starts a node, and no driver needs to know what a graph is.

// graphStep runs a Graph, Trigger, Signal, Check or Skip instruction. stop says
// the token has stopped (it waits for its graph's nodes, or the run
// ended).
func (v *vm) graphStep(t *token, in *blueprint.Instr, last *any) (stop bool, err error) {
	switch in.Op {
	case blueprint.OpGraph:
		v.graph(*t, in)
		return true, nil
	case blueprint.OpTrigger:
		run, err := v.trigger(*t, in)
		if err != nil {
			return true, err
		}
		if run {
			t.pc++
			return false, nil
		}
		v.record(store.Record{RecordKey: v.nodeKey(t.frame, in.Node), Status: store.Skipped, Started: v.now, Finished: v.now})
		*last = nil
		t.pc = in.Target
		return false, nil
	case blueprint.OpSkip:
		for _, d := range in.Deps {
			v.record(store.Record{RecordKey: v.nodeKey(t.frame, d), Status: store.Skipped, Started: v.now, Finished: v.now})
		}
		t.pc++
		return false, nil
	case blueprint.OpSignal:
		for _, sg := range in.Signals {
			v.arrive(blueprint.GraphGroup(t.group, sg.Slot), sg.At, nil)
		}
		t.pc++
		return false, nil
	case blueprint.OpCheck:
		keys := make([]store.RecordKey, len(in.Deps))
		for i, d := range in.Deps {
			keys[i] = v.nodeKey(t.frame, d)
		}
		recs, err := v.readRecords(keys)
		if err != nil {
			return true, err
		}
		for i, r := range recs {
			if r == nil || r.Status != store.Failed {
				continue
			}
			info := r.Error
			if info == nil {
				info = &store.ErrorInfo{Node: r.Key, Message: "failed"}
			}
			// The node keeps its record (its output says what failed);
			// the Graph and what holds it fail with its error.
			v.failParents(t.frame, in.Deps[i], info)
			v.tr.End = &store.RunEnd{Status: store.Failed, Error: info}
			return true, nil
		}
		// The group recorded the Graph; recorded again here, it is
		// reported as it finishes.
		v.record(store.Record{RecordKey: v.nodeKey(t.frame, in.Node), Status: store.Succeeded, Output: *last, Finished: v.now})
		t.pc++
		return false, nil
	}
	return true, nil
}

// graph starts a Graph: its own group, one group per node that depends on
// others, and the tokens of the nodes that depend on nothing.
func (v *vm) graph(t token, in *blueprint.Instr) {
	n := len(in.Targets)
	id := v.groupID(t)
	g := &store.Group{ID: id, Total: n, Started: n, ChildPCs: in.Targets, Frame: t.frame, Result: v.nodeKey(t.frame, in.Node)}
	v.record(store.Record{RecordKey: g.Result, Status: store.Running, Started: v.now})
	v.wait(t, g, in.Target)
	node := v.p.bp.Nodes[in.Node].ID
	roots := 0
	for i, need := range in.Needs {
		if need == 0 {
			roots++
			continue
		}
		slot := int32(i)
		v.tr.Groups = append(v.tr.Groups, &store.Group{
			ID: blueprint.GraphGroup(id, slot), Total: int(need), Started: int(need),
			BodyPC: in.Targets[i], FrameBase: t.frame,
			Result: store.RecordKey{Frame: t.frame, Key: node + "#needs" + strconv.Itoa(i)},
			Parent: &store.Task{Run: v.run.id, Hash: v.p.bp.Hash, Kind: store.Resume, Token: store.ChildToken(id, i),
				PC: in.Targets[i], Frame: t.frame, Group: id, Slot: slot},
		})
	}
	v.reserve(0, roots)
	// Pushed in reverse, so the first node written is advanced first.
	for i := n - 1; i >= 0; i-- {
		if in.Needs[i] == 0 {
			v.pending = append(v.pending, pendingToken{t: token{id: store.ChildToken(id, i), pc: in.Targets[i], frame: t.frame, group: id, slot: int32(i)}})
		}
	}
}

// trigger evaluates a Trigger's rule over the records of the nodes its
// node depends on, which have all finished.
func (v *vm) trigger(t token, in *blueprint.Instr) (bool, error) {
	keys := make([]store.RecordKey, len(in.Deps))
	for i, d := range in.Deps {
		keys[i] = v.nodeKey(t.frame, d)
	}
	recs, err := v.readRecords(keys)
	if err != nil {
		return false, err
	}
	var succeeded, failed, skipped int
	for _, r := range recs {
		switch {
		case r == nil:
			skipped++
		case r.Status == store.Succeeded:
			succeeded++
		case r.Status == store.Failed:
			failed++
		default:
			skipped++
		}
	}
	switch in.Rule {
	case blueprint.RuleAllDone:
		return true, nil
	case blueprint.RuleAnyFailed:
		return failed > 0, nil
	case blueprint.RuleNoneFailedMinOneSuccess:
		return failed == 0 && succeeded > 0, nil
	}
	return succeeded == len(recs), nil
}
