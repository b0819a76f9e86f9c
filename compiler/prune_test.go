package compiler

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/blueprint"
)

func TestPruneNodesRenumbers(t *testing.T) {
	bp := &blueprint.Blueprint{
		Nodes: []blueprint.Node{
			{ID: "dead", Loop: -1},  // 0: referenced by nothing
			{ID: "loop", Loop: -1},  // 1: enclosing loop of a live node
			{ID: "body", Loop: 1},   // 2: a step
			{ID: "read", Loop: -1},  // 3: read by a live expression only
			{ID: "gone", Loop: -1},  // 4: read by a dead expression only
			{ID: "catch", Loop: -1}, // 5: a var's node
		},
		Exprs: []blueprint.Expr{
			{Src: "dead", Refs: []blueprint.Ref{{Name: "gone", Node: 4}}},
			{Src: "params", Refs: []blueprint.Ref{{Name: "read", Node: 3}}, Vars: []blueprint.Var{
				{Name: "input", Kind: blueprint.VarInput, Node: -1},
				{Name: "error", Kind: blueprint.VarError, Node: 5},
			}},
			{Src: "out"},
		},
		Code: []blueprint.Instr{
			{Op: blueprint.OpTask, Node: 2, Expr: -1, Steps: []blueprint.Step{{Node: 2, Action: "noop", Params: 1, Catch: -1}}},
			{Op: blueprint.OpEnd, Node: -1, Expr: -1},
		},
		Output: 2,
	}
	pruneNodes(bp)
	var ids []string
	for _, n := range bp.Nodes {
		ids = append(ids, n.ID)
	}
	require.Equal(t, []string{"loop", "body", "read", "catch"}, ids)
	require.Equal(t, int32(0), bp.Nodes[1].Loop)
	require.Len(t, bp.Exprs, 2)
	require.Equal(t, int32(1), bp.Output)
	step := bp.Code[0].Steps[0]
	require.Equal(t, int32(1), step.Node)
	require.Equal(t, int32(0), step.Params)
	require.Equal(t, int32(1), bp.Code[0].Node)
	require.Equal(t, []blueprint.Ref{{Name: "read", Node: 2}}, bp.Exprs[0].Refs)
	require.Equal(t, int32(-1), bp.Exprs[0].Vars[0].Node)
	require.Equal(t, int32(3), bp.Exprs[0].Vars[1].Node)
	require.NoError(t, blueprint.Validate(bp))
}

// TestPruneNodesRemapsParents gives a node whose parent is dropped the
// nearest ancestor that stays.
func TestPruneNodesRemapsParents(t *testing.T) {
	bp := &blueprint.Blueprint{
		Nodes: []blueprint.Node{
			{ID: "outer", Kind: "If", Loop: -1, Parent: -1},     // 0: kept
			{ID: "dropped", Kind: "If", Loop: -1, Parent: 0},    // 1: named by nothing
			{ID: "leaf", Kind: "Action", Loop: -1, Parent: 1},   // 2: a step
			{ID: "top", Kind: "Action", Loop: -1, Parent: -1},   // 3: a step
			{ID: "orphan", Kind: "Action", Loop: -1, Parent: 1}, // 4: dropped too
		},
		Exprs: []blueprint.Expr{},
		Code: []blueprint.Instr{
			{Op: blueprint.OpEnter, Node: 0, Expr: -1},
			{Op: blueprint.OpTask, Node: 2, Expr: -1, Steps: []blueprint.Step{{Node: 2, Action: "noop", Params: -1, Catch: -1}}},
			{Op: blueprint.OpLeave, Node: 0, Expr: -1},
			{Op: blueprint.OpTask, Node: 3, Expr: -1, Steps: []blueprint.Step{{Node: 3, Action: "noop", Params: -1, Catch: -1}}},
			{Op: blueprint.OpEnd, Node: -1, Expr: -1},
		},
		Output: -1,
	}
	pruneNodes(bp)
	parents := map[string]int32{}
	for _, n := range bp.Nodes {
		parents[n.ID] = n.Parent
	}
	require.Equal(t, map[string]int32{"outer": -1, "leaf": 0, "top": -1}, parents)
	require.NoError(t, blueprint.Validate(bp))
}
