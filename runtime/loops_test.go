package runtime_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
)

func builtins(*testing.T) *action.Registry { return action.Builtins() }

// TestUntilLoopPaginates: an until loop runs its body at least once and
// ends after the iteration whose records make its condition hold; the body
// reads the previous iteration's output as previous.
func TestUntilLoopPaginates(t *testing.T) {
	got := sameEverywhere(t, builtins, `name: paginate
nodes:
  - id: pages
    kind: Loop
    until: nodes.fetch.output.next == nil || iteration >= 9
    body:
      - id: fetch
        kind: Action
        action: set
        params:
          page: "${{ iteration }}"
          after: "${{ previous?.next }}"
          next: "${{ iteration < 3 ? 'tok' + string(iteration + 1) : nil }}"
  - id: once
    kind: Loop
    until: "true"
    body:
      - {id: one, kind: Action, action: set, params: {v: 1}}
output: "${{ {pages: nodes.pages.output, once: nodes.once.output} }}"
`)
	require.Contains(t, got, `output {"once":[{"v":1}],"pages":[{"after":null,"next":"tok1","page":0},{"after":"tok1","next":"tok2","page":1},{"after":"tok2","next":"tok3","page":2},{"after":"tok3","next":null,"page":3}]}`)
}

// TestWhileReadsThePreviousIteration: a while condition reads the body's
// records of the iteration before (none before the first: null), and
// previous is that iteration's output.
func TestWhileReadsThePreviousIteration(t *testing.T) {
	got := sameEverywhere(t, builtins, `name: poll
nodes:
  - id: poll
    kind: Loop
    while: "nodes.check?.output?.state != 'ready' && previous?.state != 'ready'"
    body:
      - {id: check, kind: Action, action: set, params: {state: "${{ iteration >= 2 ? 'ready' : 'pending' }}", i: "${{ iteration }}"}}
output: "${{ map(nodes.poll.output, #.i) }}"
`)
	require.Contains(t, got, "output [0,1,2]\n")
}

// TestBreakIfEndsTheLoop: break_if ends the loop right after its node:
// the nodes after it in that iteration do not run, and the iteration's
// output is the node's. max_iterations still bounds a loop that never
// breaks.
func TestBreakIfEndsTheLoop(t *testing.T) {
	got := sameEverywhere(t, builtins, `name: heads
nodes:
  - id: flips
    kind: Loop
    while: "true"
    max_iterations: 20
    body:
      - {id: flip, kind: Action, action: set, params: {heads: "${{ iteration == 3 }}", i: "${{ iteration }}"}, break_if: nodes.flip.output.heads}
      - {id: after, kind: Action, action: set, params: {i: "${{ iteration }}"}}
output: "${{ nodes.flips.output }}"
`)
	require.Contains(t, got, `output [{"i":0},{"i":1},{"i":2},{"heads":true,"i":3}]`)
	// A body node keeps its last iteration's record: after last ran in 2.
	require.Contains(t, got, "after succeeded {\"i\":2}\n")

	bounded := sameEverywhere(t, builtins, `name: bounded
nodes:
  - id: spin
    kind: Loop
    until: "false"
    max_iterations: 3
    body:
      - {id: s, kind: Action, action: noop, break_if: "1 > 2"}
`)
	require.Contains(t, bounded, "status failed\nerror spin: loop \"spin\" exceeded max_iterations (3)\n")
}
