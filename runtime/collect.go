package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/store"
)

// A Parallel or for_each Loop with fail_fast: false is a trap (Node.Trap):
// a node inside it that fails, unhandled, ends its token's branch or
// iteration, handing the failure to its group as its value, and the
// Collect after each group of the trap gathers them. A group nested in the
// trap that is not a trap itself fails in turn, once its children have
// all arrived, and hands its failure on the same way; so failures travel
// up group by group to the trap, and no driver knows about them.

// trapFail hands the failure of node to the token's group when a trap
// holds the node, and reports whether it did; the caller has recorded the
// node's own record.
func (v *vm) trapFail(t token, node int32, info *store.ErrorInfo) bool {
	if node < 0 || !v.p.trapped[node] || t.group == "" {
		return false
	}
	// What holds the node inside its branch or iteration (an If, a while
	// loop, a Call) failed with it; the group's node is the Collect's.
	for p, n := v.p.parent[node], 0; p >= 0 && n < len(v.p.parent) && !v.p.groupOwner[p]; p, n = v.p.parent[p], n+1 {
		v.record(store.Record{RecordKey: v.nodeKey(t.frame, p), Status: store.Failed, Error: info, Finished: v.now})
	}
	v.end(t)
	v.arrive(t.group, t.slot, map[string]any{blueprint.FailureKey: map[string]any{"node": info.Node, "message": info.Message}})
	return true
}

// collect runs a Collect: it returns the next pc, or a node failure.
func (v *vm) collect(t *token, in *blueprint.Instr, last *any) (int32, error) {
	list, _ := (*last).([]any)
	type failure struct {
		slot          int
		node, message string
	}
	var fails []failure
	for i, val := range list {
		m, ok := val.(map[string]any)
		if !ok || len(m) != 1 {
			continue
		}
		f, ok := m[blueprint.FailureKey].(map[string]any)
		if !ok {
			continue
		}
		node, _ := f["node"].(string)
		msg, _ := f["message"].(string)
		fails = append(fails, failure{i, node, msg})
	}
	if len(fails) == 0 {
		// The group recorded the node; recorded again here, it is
		// reported as it finishes.
		v.record(store.Record{RecordKey: v.nodeKey(t.frame, in.Node), Status: store.Succeeded, Output: *last, Finished: v.now})
		return t.pc + 1, nil
	}
	n := &v.p.bp.Nodes[in.Node]
	loop := n.Kind == "Loop"
	// The items of the failed iterations, which a trap's Map records.
	items := make([]any, len(fails))
	if loop {
		base := frameJoin(t.frame, n.ID)
		keys := make([]store.RecordKey, len(fails))
		for i, f := range fails {
			keys[i] = store.RecordKey{Frame: store.ChildFrame(base, f.slot), Key: v.p.itemKey[in.Node]}
		}
		recs, err := v.readRecords(keys)
		if err != nil {
			return 0, err
		}
		for i, r := range recs {
			if r != nil {
				items[i] = r.Output
			}
		}
	}
	what, unit := "branch", "branches"
	if loop {
		what, unit = "iteration", "iterations"
	}
	failures := make([]any, len(fails))
	parts := make([]string, len(fails))
	for i, f := range fails {
		entry := map[string]any{what: f.slot, "node": f.node, "message": f.message}
		part := what + " " + strconv.Itoa(f.slot)
		if loop {
			entry["item"] = items[i]
			if b, err := json.Marshal(items[i]); err == nil {
				part += " (item " + string(b) + ")"
			}
		}
		failures[i] = entry
		parts[i] = fmt.Sprintf("%s: %s: %s", part, f.node, f.message)
	}
	msg := fmt.Sprintf("%d of %d %s failed: %s", len(fails), len(list), unit, strings.Join(parts, "; "))
	info := &store.ErrorInfo{Node: n.ID, Message: msg}
	key := v.nodeKey(t.frame, in.Node)
	switch in.Handle {
	case blueprint.HandleContinue:
		out := map[string]any{"error": map[string]any{"message": msg, "node": n.ID, "failures": failures}}
		v.record(store.Record{RecordKey: key, Status: store.Failed, Output: out, Error: info, Finished: v.now})
		*last = out
		return t.pc + 1, nil
	case blueprint.HandleCatch:
		v.record(store.Record{RecordKey: key, Status: store.Failed, Output: map[string]any{"failures": failures}, Error: info, Finished: v.now})
		*last = nil
		return in.Target, nil
	}
	return 0, &nodeFailure{node: in.Node, err: errors.New(msg)}
}
