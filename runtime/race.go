package runtime

import (
	"strconv"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/store"
)

// A race (a Parallel with mode: first) runs on two groups: its branch
// tokens belong to the failures' group, which a branch that fails arrives
// at (a race is a trap, see collect.go), and a branch that succeeds
// arrives at the win group, which takes one arrival. The store completes
// exactly one of them: the win group at the first success, or the
// failures' group when every branch has failed. Arrivals at a group that
// has completed are ignored, which is what lets the slower winners go
// unnoticed. When a branch has won, the others' tokens are dropped: their
// queued work is stale and runs no action; and they are stopped
// (Transition.Stop): every worker running an action of theirs, or of a
// token they started, cancels its context, and its result is discarded.

// race starts a race.
func (v *vm) race(t token, in *blueprint.Instr) {
	n := len(in.Targets)
	seq := t.seq + 1
	v.setToken(t.id, seq)
	id := v.groupID(t)
	node := v.p.bp.Nodes[in.Node].ID
	key := v.nodeKey(t.frame, in.Node)
	fails := &store.Group{ID: id, Total: n, Started: started(n, in.Concurrency),
		ChildPCs: in.Targets, Frame: t.frame, Result: key}
	res := fails.Result
	fails.Parent = &store.Task{Run: v.run.id, Hash: v.p.bp.Hash, Kind: store.Resume, Token: t.id, Seq: seq, PC: in.Else,
		Frame: t.frame, Group: t.group, Slot: t.slot, Last: &res}
	winKey := store.RecordKey{Frame: t.frame, Key: node + "#won"}
	win := &store.Group{ID: blueprint.RaceWinGroup(id), Total: 1, Started: 1, Frame: t.frame, Result: winKey,
		Parent: &store.Task{Run: v.run.id, Hash: v.p.bp.Hash, Kind: store.Resume, Token: t.id, Seq: seq, PC: in.Target,
			Frame: t.frame, Group: t.group, Slot: t.slot, Last: &winKey}}
	v.record(store.Record{RecordKey: key, Status: store.Running, Started: v.now})
	v.tr.Groups = append(v.tr.Groups, fails, win)
	v.reserve(0, fails.Started)
	if fails.Started > 0 {
		f := newFanout(fails)
		f.pcs, f.frame = in.Targets, t.frame
		v.pending = append(v.pending, pendingToken{fan: f})
	}
}

// won finishes a race a branch has won: last is the win group's list,
// [{branch, output}].
func (v *vm) won(t token, in *blueprint.Instr, last *any) error {
	var out any
	if l, ok := (*last).([]any); ok && len(l) == 1 {
		out = l[0]
	}
	*last = out
	v.record(store.Record{RecordKey: v.nodeKey(t.frame, in.Node), Status: store.Succeeded, Output: out, Finished: v.now})
	// The race's group was made by this token one sequence ago.
	id := t.id + ":" + strconv.FormatUint(uint64(t.seq), 10)
	for i := range in.Max {
		// The winner's token has ended already: stopping it stops nothing.
		tok := store.ChildToken(id, i)
		v.drop(tok)
		v.tr.Stop = append(v.tr.Stop, tok)
	}
	keys := make([]store.RecordKey, len(in.Deps))
	for i, d := range in.Deps {
		keys[i] = v.nodeKey(t.frame, d)
	}
	recs, err := v.readRecords(keys)
	if err != nil {
		return err
	}
	for i, r := range recs {
		if r != nil && r.Status == store.Running {
			v.record(store.Record{RecordKey: keys[i], Status: store.Cancelled, Finished: v.now,
				Error: &store.ErrorInfo{Node: r.Key, Type: action.ErrCancelled, Message: "another branch of the race won"}})
		}
	}
	return nil
}

// drop ends a token other than the one advancing.
func (v *vm) drop(id string) {
	if v.tr.Drop == nil {
		v.tr.Drop = v.buf.drop[:0]
	}
	v.tr.Drop = append(v.tr.Drop, id)
}
