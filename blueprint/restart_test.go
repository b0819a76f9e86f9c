package blueprint_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/compiler"
)

// restartFlow has every construct a restart point can sit in: a sequence,
// a catch block, a Parallel, a for_each and a while loop, an If, a Wait
// and a function call.
const restartFlow = `name: restart
functions:
  notify:
    params: [text]
    nodes:
      - {id: send, kind: Action, action: log, params: {msg: "${{ params.text }}"}}
nodes:
  - {id: a, kind: Action, action: set, params: {x: 1}}
  - id: b
    kind: Action
    action: noop
    catch:
      - {id: c1, kind: Action, action: log, params: {msg: caught}}
  - id: par
    kind: Parallel
    branches:
      - - {id: p1, kind: Action, action: noop}
        - {id: p2, kind: Action, action: noop}
      - - {id: q1, kind: Action, action: noop}
  - id: lp
    kind: Loop
    for_each: "[1,2,3]"
    body:
      - {id: l1, kind: Action, action: noop}
      - {id: l2, kind: Action, action: noop}
  - id: cond
    kind: If
    condition: nodes.a.output.x > 0
    then:
      - {id: t1, kind: Action, action: noop}
    else:
      - {id: e1, kind: Action, action: noop}
  - {id: w, kind: Wait, duration: 1ms}
  - id: wl
    kind: Loop
    while: iteration < 2
    body:
      - {id: wb1, kind: Action, action: noop}
      - {id: wb2, kind: Action, action: noop}
  - {id: call, kind: Call, function: notify, args: {text: hi}}
  - {id: z, kind: Action, action: noop}
`

// rerun names the nodes a restart from id runs again, sorted.
func rerun(t *testing.T, bp *blueprint.Blueprint, id string) []string {
	t.Helper()
	i := slices.IndexFunc(bp.Nodes, func(n blueprint.Node) bool { return n.ID == id })
	require.GreaterOrEqual(t, i, 0, "node %s", id)
	set := bp.RestartSet(int32(i))
	require.NotNil(t, set, "node %s", id)
	var out []string
	for n, on := range set {
		if on {
			out = append(out, bp.Nodes[n].ID)
		}
	}
	slices.Sort(out)
	return out
}

func TestRestartSetFollowsControlFlowForward(t *testing.T) {
	for _, opts := range []compiler.Options{{}, {NoOpt: true}} {
		bp, errs := compiler.Compile("restart.yaml", []byte(restartFlow), opts)
		require.Empty(t, errs)
		tail := []string{"call", "call.send", "w", "wb1", "wb2", "wl", "z"}
		after := func(ids ...string) []string {
			out := append(append([]string(nil), ids...), tail...)
			slices.Sort(out)
			return out
		}
		// From the first node everything runs again.
		require.Equal(t, after("a", "b", "c1", "cond", "e1", "l1", "l2", "lp", "p1", "p2", "par", "q1", "t1"), rerun(t, bp, "a"), "NoOpt %v", opts.NoOpt)
		// A node of a Parallel branch: the rest of its branch and what
		// follows the Parallel, not the other branch.
		require.Equal(t, after("cond", "e1", "l1", "l2", "lp", "p2", "par", "t1"), rerun(t, bp, "p2"))
		// A node of a loop body: the rest of the body, not its start.
		require.Equal(t, after("cond", "e1", "l2", "lp", "t1"), rerun(t, bp, "l2"))
		require.Equal(t, []string{"call", "call.send", "wb2", "wl", "z"}, rerun(t, bp, "wb2"))
		// A composite node: itself, all it holds and what follows.
		require.Equal(t, after("cond", "e1", "t1"), rerun(t, bp, "cond"))
		// The If closes after t1 (its Leave), but its else branch is not after
		// its then branch.
		require.Equal(t, after("cond", "t1"), rerun(t, bp, "t1"))
		require.Equal(t, []string{"z"}, rerun(t, bp, "z"))

		catchOnly := bp.CatchOnly()
		for i, n := range bp.Nodes {
			require.Equal(t, n.ID == "c1", catchOnly[i], "node %s", n.ID)
		}
	}
}

func TestRestartSetOfARemovedNode(t *testing.T) {
	bp, errs := compiler.Compile("dead.yaml", []byte(`name: dead
nodes:
  - {id: a, kind: Action, action: noop}
  - id: never
    kind: If
    condition: "false"
    then:
      - {id: t1, kind: Action, action: noop}
`), compiler.Options{NoOpt: true})
	require.Empty(t, errs)
	require.Equal(t, []string{"never", "t1"}, rerun(t, bp, "never"))
	require.Nil(t, bp.RestartSet(-1))
	require.Nil(t, bp.RestartSet(int32(len(bp.Nodes))))
	// A node no instruction belongs to has no restart set.
	bp.Nodes = append(bp.Nodes, blueprint.Node{ID: "ghost", Loop: -1, Parent: -1})
	require.Nil(t, bp.RestartSet(int32(len(bp.Nodes)-1)))
	require.False(t, bp.HasCode()[len(bp.Nodes)-1])
}

// TestRestartSetInAGraph: restarting a node of a Graph runs again the
// nodes that depend on it, directly or not, and not the others.
func TestRestartSetInAGraph(t *testing.T) {
	src := `name: g
nodes:
  - id: g
    kind: Graph
    graph:
      - {id: checkout, kind: Action, action: noop}
      - {id: build-a, kind: Action, action: noop, depends: checkout}
      - {id: build-b, kind: Action, action: noop, depends: checkout}
      - {id: test-a, kind: Action, action: noop, depends: build-a}
      - {id: test-b, kind: Action, action: noop, depends: [build-a, build-b]}
      - {id: cleanup, kind: Action, action: noop, depends: [test-a, test-b], trigger_rule: all_done}
  - {id: after, kind: Action, action: noop}
`
	for _, opts := range []compiler.Options{{}, {NoOpt: true}} {
		bp, errs := compiler.Compile("g.yaml", []byte(src), opts)
		require.Empty(t, errs)
		require.Equal(t, []string{"after", "build-b", "cleanup", "g", "test-b"}, rerun(t, bp, "build-b"), "NoOpt %v", opts.NoOpt)
		require.Equal(t, []string{"after", "build-a", "cleanup", "g", "test-a", "test-b"}, rerun(t, bp, "build-a"))
	}
}
