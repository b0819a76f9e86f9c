package compiler

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/dsl"
)

// The JSON Schema offers timeout, retry, on_error and catch on the kinds
// dsl.CommonFieldAllowed names; the compiler must accept them on exactly
// those kinds, or an editor would flag what compiles (or pass what does not).
func TestCommonFieldsMatchTheSchema(t *testing.T) {
	nodes := map[string]string{
		"Action":   "{id: a, kind: Action, action: noop%s}",
		"Parallel": "{id: a, kind: Parallel, fail_fast: false, branches: [[{id: b, kind: Action, action: noop}]]%s}",
		"If":       "{id: a, kind: If, condition: 'true', then: [{id: b, kind: Action, action: noop}]%s}",
		"Loop":     "{id: a, kind: Loop, fail_fast: false, for_each: '[1]', body: [{id: b, kind: Action, action: noop}]%s}",
		"Call":     "{id: a, kind: Call, function: f%s}",
		"Switch":   "{id: a, kind: Switch, cases: [{when: 'true', nodes: [{id: b, kind: Action, action: noop}]}]%s}",
		"Wait":     "{id: a, kind: Wait, duration: 1s%s}",
		"Graph":    "{id: a, kind: Graph, graph: [{id: b, kind: Action, action: noop}]%s}",
	}
	fields := map[string]string{
		"timeout":  ", timeout: 1s",
		"retry":    ", retry: {max_attempts: 2}",
		"on_error": ", on_error: continue",
		"catch":    ", catch: [{id: c, kind: Action, action: noop}]",
		"name":     ", name: x",
	}
	require.Len(t, nodes, len(dsl.Kinds))
	for kind, node := range nodes {
		for field, text := range fields {
			src := "name: t\nfunctions: {f: {nodes: [{id: z, kind: Action, action: noop}]}}\nnodes:\n  - " +
				strings.Replace(node, "%s", text, 1) + "\n"
			got := errLines(t, src)
			if dsl.CommonFieldAllowed(kind, field) {
				require.Empty(t, got, "%s on %s", field, kind)
			} else {
				require.Contains(t, got, field+" is only supported on", "%s on %s", field, kind)
			}
		}
	}
}
