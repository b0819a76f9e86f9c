package runtime_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
)

// TestRunTimeErrorsNameTheFailingTemplate: an expression built from several
// YAML values (a params or args map, a string with several templates, the
// output) fails with the position of the template that failed, not of the
// whole map.
func TestRunTimeErrorsNameTheFailingTemplate(t *testing.T) {
	for _, tc := range []struct {
		name, src, node, want string
	}{
		{
			name: "block params",
			src: `name: p
nodes:
  - id: a
    kind: Action
    action: set
    params:
      ok: 1
      m: "${{ input.missing.deeper }}"
`,
			node: "a", want: "params: expression at 8:10: cannot fetch deeper from null",
		},
		{
			name: "second template of a string",
			src: `name: p
nodes:
  - id: b
    kind: Action
    action: log
    params:
      msg: "x ${{ 1 }} y ${{ input.q.r }}"
`,
			node: "b", want: "expression at 7:26: cannot fetch r from null",
		},
		{
			name: "flow params, later key",
			src: `name: p
nodes:
  - {id: c, kind: Action, action: set, params: {a: "${{ input }}", b: "${{ input.x.y }}", c: 3}}
`,
			node: "c", want: "expression at 3:71: cannot fetch y from null",
		},
		{
			name: "nested list element",
			src: `name: p
nodes:
  - id: d
    kind: Action
    action: set
    params:
      l:
        - 1
        - "${{ input.x.y }}"
`,
			node: "d", want: "expression at 9:11: cannot fetch y from null",
		},
		{
			name: "call args",
			src: `name: p
functions:
  f:
    params: [a, b]
    nodes: [{id: in, kind: Action, action: set, params: {v: "${{ params.a }}"}}]
nodes:
  - id: call
    kind: Call
    function: f
    args:
      a: 1
      b: "${{ input.x.y }}"
`,
			node: "call", want: "expression at 12:10: cannot fetch y from null",
		},
		{
			name: "output",
			src: `name: p
nodes:
  - {id: e, kind: Action, action: noop}
output:
  fine: 1
  bad: "${{ input.x.y }}"
`,
			want: "expression at 6:8: cannot fetch y from null",
		},
		{
			name: "one value keeps its own position",
			src: `name: p
nodes:
  - {id: f, kind: If, condition: "input.x.y", then: []}
`,
			node: "f", want: "expression at 3:34: cannot fetch y from null",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runOn(t, memory.New(), tc.src)
			require.Equal(t, store.Failed, res.Status)
			require.NotNil(t, res.Error)
			require.Equal(t, tc.node, res.Error.Node)
			require.Contains(t, res.Error.Message, tc.want)
		})
	}
}

// TestRunTimeTypeErrorsUseSkriptNames: a value of the wrong type at run
// time is named as the workflow language names it (list, map, integer,
// null...), never with a Go type name, and the error has the position of
// the expression that produced it.
func TestRunTimeTypeErrorsUseSkriptNames(t *testing.T) {
	for _, tc := range []struct {
		name, src, node, want string
	}{
		{
			name: "operator",
			src: `name: p
inputs: {l: {default: [1, 2]}}
nodes:
  - {id: a, kind: Action, action: set, params: {v: "${{ input.l + 1 }}"}}
`,
			node: "a", want: "params: expression at 4:52: invalid operation: list + integer",
		},
		{
			name: "condition",
			src: `name: p
inputs: {l: {default: [1, 2]}}
nodes:
  - {id: f, kind: If, condition: "input.l", then: []}
`,
			node: "f", want: `expression at 4:34: condition "input.l" is a list, not a boolean`,
		},
		{
			name: "for_each",
			src: `name: p
inputs: {m: {default: {a: 1}}}
nodes:
  - id: each
    kind: Loop
    for_each: "${{ input.m }}"
    body: [{id: b, kind: Action, action: set, params: {v: "${{ item }}"}}]
`,
			node: "each", want: "expression at 6:15: for_each: want a list, got map",
		},
		{
			name: "for_each, item unused",
			src: `name: p
inputs: {n: {default: 3}}
nodes:
  - id: each
    kind: Loop
    for_each: "${{ input.n }}"
    body: [{id: b, kind: Action, action: noop}]
`,
			node: "each", want: "expression at 6:15: for_each: want a list, got integer",
		},
		{
			name: "wait duration",
			src: `name: p
inputs: {l: {default: [1]}}
nodes:
  - {id: w, kind: Wait, duration: "${{ input.l }}"}
`,
			node: "w", want: "expression at 4:35: duration: want a duration like \"300ms\", got list",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runOn(t, memory.New(), tc.src)
			require.Equal(t, store.Failed, res.Status)
			require.NotNil(t, res.Error)
			require.Equal(t, tc.node, res.Error.Node)
			require.Contains(t, res.Error.Message, tc.want)
			require.NotContains(t, res.Error.Message, "interface")
		})
	}
}
