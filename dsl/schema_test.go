package dsl

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource(SchemaID, doc))
	sch, err := c.Compile(SchemaID)
	require.NoError(t, err)
	return sch
}

// asJSONValue reads a workflow the way an editor's YAML language server
// sees it: as plain JSON data.
func asJSONValue(t *testing.T, src []byte) any {
	t.Helper()
	v, errs := ParseValue("flow.yaml", src)
	require.Empty(t, errs)
	b, err := json.Marshal(v.Go())
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	return doc
}

func TestSchemaAcceptsValidWorkflows(t *testing.T) {
	sch := compileSchema(t)
	files, err := filepath.Glob("testdata/cases/*.yaml")
	require.NoError(t, err)
	files = append(files, "testdata/seed_readme.yaml", "testdata/spec_example.yaml")
	n := 0
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasPrefix(base, "invalid_") || strings.HasPrefix(base, "inputs_") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, sch.Validate(asJSONValue(t, src)), base)
		n++
	}
	require.GreaterOrEqual(t, n, 30)
}

func TestSchemaRejectsMistakes(t *testing.T) {
	sch := compileSchema(t)
	for name, src := range map[string]string{
		"misspelt kind":        "name: t\nnodes: [{id: a, kind: Paralel, branches: [[{id: b, kind: Action, action: noop}]]}]\n",
		"lower-case kind":      "name: t\nnodes: [{id: a, kind: action, action: noop}]\n",
		"field of other kind":  "name: t\nnodes: [{id: a, kind: Action, action: noop, branches: []}]\n",
		"unknown field":        "name: t\nnodes: [{id: a, kind: Action, action: noop, actoin: x}]\n",
		"missing action":       "name: t\nnodes: [{id: a, kind: Action}]\n",
		"missing nodes":        "name: t\n",
		"unknown top field":    "name: t\nnodez: []\n",
		"empty nodes":          "name: t\nnodes: []\n",
		"loop without source":  "name: t\nnodes: [{id: a, kind: Loop, body: []}]\n",
		"loop with both":       "name: t\nnodes: [{id: a, kind: Loop, while: x, for_each: y, body: []}]\n",
		"wait with both":       "name: t\nnodes: [{id: a, kind: Wait, duration: 1s, until: x}]\n",
		"bad duration":         "name: t\nnodes: [{id: a, kind: Action, action: noop, timeout: soon}]\n",
		"bad on_error":         "name: t\nnodes: [{id: a, kind: Action, action: noop, on_error: ignore}]\n",
		"bad id":               "name: t\nnodes: [{id: a.b, kind: Action, action: noop}]\n",
		"default of bad type":  "name: t\ninputs: {n: {type: integer, default: x}}\nnodes: [{id: a, kind: Action, action: noop}]\n",
		"branch is a node":     "name: t\nnodes: [{id: a, kind: Parallel, branches: [{id: b, kind: Action, action: noop}]}]\n",
		"case without when":    "name: t\nnodes: [{id: a, kind: Switch, cases: [{nodes: []}]}]\n",
		"retry zero attempts":  "name: t\nnodes: [{id: a, kind: Action, action: noop, retry: {max_attempts: 0}}]\n",
		"catch on a Loop":      "name: t\nnodes: [{id: a, kind: Loop, while: x, body: [{id: b, kind: Action, action: noop}], catch: [{id: c, kind: Action, action: noop}]}]\n",
		"retry on an If":       "name: t\nnodes: [{id: a, kind: If, condition: x, then: [{id: b, kind: Action, action: noop}], retry: {max_attempts: 2}}]\n",
		"on_error on a Call":   "name: t\nfunctions: {f: {nodes: [{id: b, kind: Action, action: noop}]}}\nnodes: [{id: a, kind: Call, function: f, on_error: continue}]\n",
		"timeout on Parallel":  "name: t\nnodes: [{id: a, kind: Parallel, timeout: 1s, branches: [[{id: b, kind: Action, action: noop}]]}]\n",
		"catch and continue":   "name: t\nnodes: [{id: a, kind: Action, action: noop, on_error: continue, catch: [{id: c, kind: Action, action: noop}]}]\n",
		"nested misspelt kind": "name: t\nnodes: [{id: a, kind: If, condition: x, then: [{id: b, kind: Acton, action: noop}]}]\n",
	} {
		require.Error(t, sch.Validate(asJSONValue(t, []byte(src))), name)
	}
	// What the compiler accepts on those kinds, the schema accepts too.
	for name, src := range map[string]string{
		"timeout on a Wait": "name: t\nnodes: [{id: a, kind: Wait, duration: 1s, timeout: 1m}]\n",
		"all on an Action":  "name: t\nnodes: [{id: a, kind: Action, action: noop, timeout: 1s, retry: {max_attempts: 2}, on_error: fail, catch: [{id: c, kind: Action, action: noop}]}]\n",
	} {
		require.NoError(t, sch.Validate(asJSONValue(t, []byte(src))), name)
	}
	// Extension fields hold anchors and are accepted.
	require.NoError(t, sch.Validate(asJSONValue(t, []byte(
		"x-common: &c {kind: Action, action: noop}\nname: t\nnodes: [{id: a, kind: Action, action: noop}]\n"))))
}

// Every field the parser accepts is in the schema with a description, so
// an editor can document it on hover.
func TestSchemaDescribesEveryField(t *testing.T) {
	var s map[string]any
	require.NoError(t, json.Unmarshal(Schema(), &s))
	defs := s["$defs"].(map[string]any)
	check := func(where string, obj map[string]any, fs []field) {
		props := obj["properties"].(map[string]any)
		require.Len(t, props, len(fs), where)
		for _, f := range fs {
			p, ok := props[f.name].(map[string]any)
			require.True(t, ok, "%s.%s missing", where, f.name)
			require.NotEmpty(t, p["description"], "%s.%s", where, f.name)
		}
	}
	check("workflow", s, workflowFields)
	check("input", defs["input"].(map[string]any), inputFields)
	check("retry", defs["retry"].(map[string]any), retryFields)
	check("defaults", defs["defaults"].(map[string]any), defaultsFields)
	check("function", defs["function"].(map[string]any), functionFields)
	check("case", defs["case"].(map[string]any), caseFields)
	for _, k := range Kinds {
		def := defs[k].(map[string]any)
		require.NotEmpty(t, def["description"], k)
		check(k, def, nodeFields(k))
	}
	require.Equal(t, anyList(Kinds), defs["node"].(map[string]any)["properties"].(map[string]any)["kind"].(map[string]any)["enum"])

	// The bytes are the caller's own.
	a := Schema()
	a[0] = 'x'
	require.Equal(t, byte('{'), Schema()[0])
}
