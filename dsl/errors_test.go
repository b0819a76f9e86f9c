package dsl

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/errors.golden from the current messages")

// head is a valid start of a workflow for cases about nodes.
const head = "name: t\nnodes:\n"

// errorCases hold one mistake each (a few hold several, to show that all are
// reported). Their messages are pinned in testdata/errors.golden.
var errorCases = []struct {
	name string
	src  string
	opts []Option
}{
	// YAML level.
	{"yaml_syntax", "name: t\nnodes:\n  - id: a\n    kind: Action\n     action: noop\n", nil},
	{"yaml_unclosed_flow", "name: [a\n", nil},
	{"yaml_duplicate_key", "name: a\nname: b\n", nil},
	{"yaml_two_documents", "name: a\n---\nname: b\n", nil},
	{"yaml_empty", "", nil},
	{"yaml_unknown_alias", "name: *nope\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"yaml_merge_scalar", "x-a: &a hello\nname: t\nnodes:\n  - <<: *a\n    id: a\n    kind: Action\n    action: noop\n", nil},
	{"yaml_merge_list_of_scalar", "x-a: &a hello\nname: t\nnodes:\n  - <<: [*a]\n    id: a\n    kind: Action\n    action: noop\n", nil},
	{"yaml_complex_key", "name: t\nnodes: [{id: a, kind: Action, action: set, params: {? [x] : 1}}]\n", nil},
	{"yaml_bad_int_tag", "name: t\nversion: !!int abc\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"yaml_alias_bomb", billionLaughs(9), nil},
	{"yaml_too_deep", "name: t\nnodes: " + strings.Repeat("[", 1200) + strings.Repeat("]", 1200) + "\n", nil},
	{"yaml_too_big", "name: t\nnodes: [{id: a, kind: Action, action: noop}]\n", []Option{WithMaxBytes(10)}},

	// Top level.
	{"top_not_a_map", "- a\n- b\n", nil},
	{"top_missing_name_and_nodes", "description: nothing\n", nil},
	{"top_name_not_string", "name: [a]\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"top_name_empty", "name: \"\"\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"top_version_list", "name: t\nversion: [1]\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"top_description_map", "name: t\ndescription: {a: 1}\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"top_unknown_field", "name: t\nnodez: [{id: a, kind: Action, action: noop}]\n", nil},
	{"top_unknown_field_no_hint", "name: t\nnodes: [{id: a, kind: Action, action: noop}]\nzzz: 1\n", nil},
	{"top_nodes_empty", "name: t\nnodes: []\n", nil},
	{"top_nodes_map", "name: t\nnodes: {a: 1}\n", nil},
	{"top_nodes_null", "name: t\nnodes:\n", nil},

	// Inputs.
	{"inputs_not_map", "name: t\ninputs: [a]\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"input_not_map", "name: t\ninputs: {a: string}\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"input_type_typo", "name: t\ninputs: {a: {type: strng}}\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"input_type_unknown", "name: t\ninputs: {a: {type: int}}\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"input_type_not_string", "name: t\ninputs: {a: {type: 1}}\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"input_default_wrong_type", "name: t\ninputs:\n  a: {type: integer, default: \"3\"}\n  b: {type: list, default: {x: 1}}\n  c: {type: number, default: 2}\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"input_required_not_bool", "name: t\ninputs: {a: {required: \"yes\"}}\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"input_unknown_field", "name: t\ninputs: {a: {typ: string}}\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},

	// Defaults.
	{"defaults_not_map", "name: t\ndefaults: 30s\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"defaults_fields", "name: t\ndefaults: {timeout: soon, retry: [3], on_error: stop, timout: 1s}\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},

	// Functions.
	{"functions_not_map", "name: t\nfunctions: [f]\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"function_not_map", "name: t\nfunctions: {f: 1}\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"function_missing_nodes", "name: t\nfunctions: {f: {params: [x]}}\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"function_nodes_empty", "name: t\nfunctions: {f: {nodes: []}}\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"function_params", "name: t\nfunctions:\n  f:\n    params: [x, 1, a-b, x]\n    nodes: [{id: b, kind: Action, action: noop}]\n    param: [y]\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},
	{"function_params_not_list", "name: t\nfunctions: {f: {params: x, nodes: [{id: b, kind: Action, action: noop}]}}\nnodes: [{id: a, kind: Action, action: noop}]\n", nil},

	// Nodes in general.
	{"node_not_map", head + "  - fetch\n", nil},
	{"node_list_in_list", head + "  - - {id: a, kind: Action, action: noop}\n", nil},
	{"node_missing_id_and_kind", head + "  - name: anonymous\n", nil},
	{"node_id_and_kind_misspelt", head + "  - {ide: a, knd: Action, action: noop, zzz: 1}\n", nil},
	{"node_id_not_string", head + "  - {id: [a], kind: Action, action: noop}\n", nil},
	{"node_id_invalid", head + "  - {id: a.b, kind: Action, action: noop}\n", nil},
	{"node_kind_not_string", head + "  - {id: a, kind: 1}\n", nil},
	{"node_kind_typo", head + "  - {id: a, kind: Paralel, branches: []}\n", nil},
	{"node_kind_case", head + "  - {id: a, kind: parallel, branches: [[{id: b, kind: Action, action: noop}]]}\n", nil},
	{"node_kind_unknown", head + "  - {id: a, kind: Task}\n", nil},
	{"node_field_of_other_kind", head + "  - {id: a, kind: Action, action: noop, branches: []}\n", nil},
	{"node_field_typo", head + "  - {id: a, kind: Action, actoin: noop}\n", nil},
	{"node_field_unknown", head + "  - {id: a, kind: Action, action: noop, zzz: 1}\n", nil},
	{"node_name_not_string", head + "  - {id: a, kind: Action, action: noop, name: [x]}\n", nil},

	// Common fields.
	{"timeout_not_duration", head + "  - {id: a, kind: Action, action: noop, timeout: soon}\n", nil},
	{"timeout_number", head + "  - {id: a, kind: Action, action: noop, timeout: 30}\n", nil},
	{"timeout_zero", head + "  - {id: a, kind: Action, action: noop, timeout: 0s}\n", nil},
	{"retry_not_map", head + "  - {id: a, kind: Action, action: noop, retry: 3}\n", nil},
	{"retry_fields", head + "  - id: a\n    kind: Action\n    action: noop\n    retry: {max_attempts: 0, backoff: 0.5, initial_interval: fast, max_intervall: 1s}\n", nil},
	{"retry_jitter", head + "  - {id: a, kind: Action, action: noop, retry: {jitter: 1.5}}\n", nil},
	{"retry_max_below_initial", head + "  - {id: a, kind: Action, action: noop, retry: {initial_interval: 2s, max_interval: 1s}}\n", nil},
	{"on_error_typo", head + "  - {id: a, kind: Action, action: noop, on_error: contineu}\n", nil},
	{"on_error_unknown", head + "  - {id: a, kind: Action, action: noop, on_error: ignore}\n", nil},
	{"catch_not_list", head + "  - {id: a, kind: Action, action: noop, catch: {id: b}}\n", nil},

	// Action.
	{"action_missing", head + "  - {id: a, kind: Action}\n", nil},
	{"action_not_string", head + "  - {id: a, kind: Action, action: [log]}\n", nil},
	{"action_empty", head + "  - {id: a, kind: Action, action: \"\"}\n", nil},
	{"action_params_list", head + "  - {id: a, kind: Action, action: log, params: [msg]}\n", nil},

	// Parallel.
	{"parallel_missing_branches", head + "  - {id: a, kind: Parallel}\n", nil},
	{"parallel_branches_map", head + "  - {id: a, kind: Parallel, branches: {a: 1}}\n", nil},
	{"parallel_branches_empty", head + "  - {id: a, kind: Parallel, branches: []}\n", nil},
	{"parallel_branch_is_node", head + "  - id: a\n    kind: Parallel\n    branches:\n      - id: b\n        kind: Action\n        action: noop\n", nil},
	{"parallel_branch_scalar", head + "  - {id: a, kind: Parallel, branches: [b]}\n", nil},
	{"parallel_max_concurrency", head + "  - {id: a, kind: Parallel, max_concurrency: -1, branches: [[{id: b, kind: Action, action: noop}]]}\n", nil},
	{"parallel_max_concurrency_string", head + "  - {id: a, kind: Parallel, max_concurrency: \"2\", branches: [[{id: b, kind: Action, action: noop}]]}\n", nil},

	// If.
	{"if_missing_fields", head + "  - {id: a, kind: If}\n", nil},
	{"if_condition_map", head + "  - {id: a, kind: If, condition: {a: 1}, then: [{id: b, kind: Action, action: noop}]}\n", nil},
	{"if_condition_empty", head + "  - {id: a, kind: If, condition: \" \", then: [{id: b, kind: Action, action: noop}]}\n", nil},
	{"if_then_map", head + "  - id: a\n    kind: If\n    condition: x\n    then:\n      id: b\n      kind: Action\n", nil},
	{"if_else_string", head + "  - {id: a, kind: If, condition: x, then: [], else: nothing}\n", nil},

	// Loop.
	{"loop_both", head + "  - {id: a, kind: Loop, while: x, for_each: y, body: []}\n", nil},
	{"loop_neither", head + "  - {id: a, kind: Loop, body: []}\n", nil},
	{"loop_as_invalid", head + "  - {id: a, kind: Loop, for_each: y, as: line-item, body: []}\n", nil},
	{"loop_while_with_for_each_fields", head + "  - {id: a, kind: Loop, while: x, as: i, concurrency: 2, body: []}\n", nil},
	{"loop_numbers", head + "  - {id: a, kind: Loop, for_each: y, concurrency: -1, max_iterations: 0, body: []}\n", nil},
	{"loop_missing_body", head + "  - {id: a, kind: Loop, while: x}\n", nil},
	{"loop_body_null", head + "  - id: a\n    kind: Loop\n    while: x\n    body:\n", nil},

	// Call.
	{"call_missing_function", head + "  - {id: a, kind: Call}\n", nil},
	{"call_args_list", head + "  - {id: a, kind: Call, function: f, args: [1]}\n", nil},

	// Switch.
	{"switch_missing_cases", head + "  - {id: a, kind: Switch}\n", nil},
	{"switch_cases_map", head + "  - {id: a, kind: Switch, cases: {when: x}}\n", nil},
	{"switch_cases_empty", head + "  - {id: a, kind: Switch, cases: []}\n", nil},
	{"switch_case_shapes", head + "  - id: a\n    kind: Switch\n    cases:\n      - x\n      - {wen: x, nodes: []}\n      - {}\n    default: {}\n", nil},

	// Wait.
	{"wait_both", head + "  - {id: a, kind: Wait, duration: 1s, until: x}\n", nil},
	{"wait_neither", head + "  - {id: a, kind: Wait}\n", nil},
	{"wait_duration_number", head + "  - {id: a, kind: Wait, duration: 5}\n", nil},
	{"wait_duration_negative", head + "  - {id: a, kind: Wait, duration: -1s}\n", nil},
	{"wait_until_empty", head + "  - {id: a, kind: Wait, until: \"\"}\n", nil},

	// Many at once, nested: all are reported, in order.
	{"many_nested", `name: many
nodes:
  - id: outer
    kind: Loop
    for_each: items
    concurrency: many
    body:
      - id: gate
        kind: If
        condition: true
        then:
          - {id: x, kind: Actoin}
        else:
          - {id: y, kind: Action, action: noop, params: 1}
  - id: par
    kind: Parallel
    branches:
      - - {id: p, kind: Wait}
      - - {id: q, kind: Call, function: f, timeout: 1}
`, nil},
}

func TestErrorMessages(t *testing.T) {
	var b strings.Builder
	for _, c := range errorCases {
		w, errs := Parse("flow.yaml", []byte(c.src), c.opts...)
		require.NotEmpty(t, errs, "%s: no error", c.name)
		for _, e := range errs {
			require.NotContains(t, e.Msg, "internal error", c.name)
			require.NotContains(t, e.Msg, "\n", "%s: one line per message", c.name)
			require.True(t, e.Pos.IsValid(), "%s: %s has no position", c.name, e)
		}
		if w != nil {
			require.Equal(t, "flow.yaml", w.File)
		}
		fmt.Fprintf(&b, "== %s\n%s\n", c.name, errs.Error())
	}
	golden := filepath.Join("testdata", "errors.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./dsl -update to create it")
	require.Equal(t, string(want), b.String(), "messages changed; run go test ./dsl -update and review the diff")
}

// The messages other parts of the product and the documentation quote.
func TestKeyMessages(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"name: t\nnodez: []\n", `flow.yaml:2:1: unknown field "nodez"; did you mean "nodes"?`},
		{"nodes: []\n", `flow.yaml:1:1: missing required field "name"` + "\n" + `flow.yaml:1:8: "nodes" must hold at least one node`},
		{head + "  - {id: a, kind: Paralel}\n", `flow.yaml:3:19: unknown kind "Paralel"; did you mean "Parallel"?`},
		{head + "  - {id: a, kind: parallel}\n", `flow.yaml:3:19: unknown kind "parallel"; did you mean "Parallel"?`},
		{head + "  - {id: a, kind: Action, action: noop, branches: []}\n", `flow.yaml:3:41: field "branches" is not allowed on an Action node`},
		{head + "  - {id: a, kind: If, condition: x, then: {}}\n", `flow.yaml:3:43: "then" must be a list of nodes, got map`},
	} {
		_, errs := Parse("flow.yaml", []byte(c.src))
		require.Equal(t, c.want, errs.Error())
	}
}
