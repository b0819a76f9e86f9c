package runtime_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUntakenArmsAreSkipped: the nodes of an If or Switch arm that did not
// run are recorded skipped, nested ones included (a loop's body nodes
// have no record of their own: the loop is skipped), and a later node
// reads that status.
func TestUntakenArmsAreSkipped(t *testing.T) {
	got := sameEverywhere(t, builtins, `name: skipped
nodes:
  - {id: a, kind: Action, action: set, params: {big: false}}
  - id: gate
    kind: If
    condition: nodes.a.output.big
    then:
      - {id: review, kind: Action, action: noop}
      - id: fan
        kind: Parallel
        branches:
          - - {id: left, kind: Action, action: noop}
      - id: each
        kind: Loop
        for_each: "[1]"
        body:
          - {id: inner, kind: Action, action: noop}
    else:
      - {id: fast, kind: Action, action: set, params: {v: 1}}
  - id: pick
    kind: Switch
    cases:
      - when: "false"
        nodes: [{id: one, kind: Action, action: noop}]
      - when: nodes.a.status == "succeeded"
        nodes: [{id: two, kind: Action, action: noop}]
    default:
      - {id: other, kind: Action, action: noop}
  - {id: after, kind: Action, action: set, params: {review: "${{ nodes.gate.status }}"}}
`)
	for _, want := range []string{
		"review skipped null\n", "fan skipped null\n", "left skipped null\n", "each skipped null\n",
		"fast succeeded", "one skipped null\n", "two succeeded", "other skipped null\n",
	} {
		require.Contains(t, got, want)
	}
	require.NotContains(t, got, "inner ")
}
