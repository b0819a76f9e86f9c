package runtime

import (
	"strconv"
	"strings"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/store"
)

// prevFrame is the frame of the iteration before the one frame ends in
// ("loop[3]" → "loop[2]"), or false in the first iteration.
func prevFrame(frame string) (string, bool) {
	name, k, ok := lastSegment(frame)
	if !ok || k == 0 {
		return "", false
	}
	base := ""
	if i := strings.LastIndexByte(frame, '/'); i >= 0 {
		base = frame[:i]
	}
	return frameJoin(base, name+"["+strconv.Itoa(k-1)+"]"), true
}

// refKey is the record a reference reads: the node's in the token's frame,
// or, for a look back (Ref.Prev), in the previous iteration of the loop
// whose body holds the node; false when there is none yet.
func (v *vm) refKey(frame string, r blueprint.Ref) (store.RecordKey, bool) {
	k := v.nodeKey(frame, r.Node)
	if !r.Prev {
		return k, true
	}
	f, ok := prevFrame(k.Frame)
	k.Frame = f
	return k, ok
}

// previousKey is the record of the previous iteration's value of while
// loop node, seen from frame; false in the first iteration.
func (v *vm) previousKey(frame string, node int32) (store.RecordKey, bool) {
	f, ok := prevFrame(framePrefix(frame, v.p.depth[node]+1))
	return store.RecordKey{Frame: f, Key: v.p.iterKey[node]}, ok
}

// breakLoop ends a while or until loop from inside its body: the
// iteration's value is last, and the loop's output is recorded as when
// its condition ends it.
func (v *vm) breakLoop(t *token, in *blueprint.Instr, last *any) error {
	name, k, ok := lastSegment(t.frame)
	id := v.p.bp.Nodes[in.Node].ID
	if !ok || name != id {
		return &nodeFailure{node: in.Node, err: errBreakOutside}
	}
	v.record(store.Record{RecordKey: store.RecordKey{Frame: t.frame, Key: v.p.iterKey[in.Node]}, Status: store.Succeeded, Output: *last})
	return v.whileExit(t, in, k+1, last)
}

type breakError struct{}

func (breakError) Error() string { return "Break outside its loop" }

var errBreakOutside error = breakError{}
