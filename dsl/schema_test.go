package dsl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
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

// The schema stays within ajv's strict mode (`ajv compile --strict=true`),
// which many editors and validators use: no union types, every required
// field named under properties, and every keyword that applies to one JSON
// type only in a schema (or a schema around it at the same place in the
// data) that says that type.
func TestSchemaIsStrict(t *testing.T) {
	var doc map[string]any
	require.NoError(t, json.Unmarshal(Schema(), &doc))
	keywordType := map[string]string{
		"minItems": "array", "maxItems": "array", "items": "array", "uniqueItems": "array",
		"pattern": "string", "minLength": "string",
		"minimum": "number", "maximum": "number",
		"additionalProperties": "object", "propertyNames": "object",
	}
	var walk func(path string, s map[string]any, inherited string)
	walk = func(path string, s map[string]any, inherited string) {
		typ := inherited
		if v, ok := s["type"]; ok {
			str, isStr := v.(string)
			require.True(t, isStr, "%s: union type %v (use anyOf)", path, v)
			typ = str
		}
		for kw, want := range keywordType {
			if _, ok := s[kw]; ok {
				got := typ
				if got == "integer" {
					got = "number"
				}
				require.Equal(t, want, got, "%s: %s needs type %s", path, kw, want)
			}
		}
		if req, ok := s["required"].([]any); ok {
			props, _ := s["properties"].(map[string]any)
			for _, r := range req {
				require.Contains(t, props, r, "%s: required %v is not under properties", path, r)
			}
		}
		for _, kw := range []string{"properties", "$defs", "patternProperties"} {
			m, _ := s[kw].(map[string]any)
			for k, v := range m {
				if sub, ok := v.(map[string]any); ok {
					walk(path+"/"+kw+"/"+k, sub, "")
				}
			}
		}
		for _, kw := range []string{"not", "if", "then", "else"} {
			if sub, ok := s[kw].(map[string]any); ok {
				walk(path+"/"+kw, sub, typ)
			}
		}
		for _, kw := range []string{"items", "additionalProperties"} {
			if sub, ok := s[kw].(map[string]any); ok {
				walk(path+"/"+kw, sub, "")
			}
		}
		if sub, ok := s["propertyNames"].(map[string]any); ok {
			walk(path+"/propertyNames", sub, "string") // keys are strings
		}
		for _, kw := range []string{"anyOf", "oneOf", "allOf"} {
			l, _ := s[kw].([]any)
			for i, v := range l {
				if sub, ok := v.(map[string]any); ok {
					walk(fmt.Sprintf("%s/%s/%d", path, kw, i), sub, typ)
				}
			}
		}
	}
	walk("#", doc, "")
}

// With SKRIPT_AJV naming an ajv binary (npm install ajv-cli ajv-formats),
// ajv itself compiles the schema in strict mode.
func TestSchemaCompilesWithAjvStrict(t *testing.T) {
	ajv := os.Getenv("SKRIPT_AJV")
	if ajv == "" {
		t.Skip("SKRIPT_AJV is unset: set it to an ajv-cli binary to compile the schema with ajv --strict=true")
	}
	path := filepath.Join(t.TempDir(), "skript.schema.json")
	require.NoError(t, os.WriteFile(path, Schema(), 0o644))
	out, err := exec.Command(ajv, "compile", "--spec=draft2020", "--strict=true", "-c", "ajv-formats", "-s", path).CombinedOutput()
	require.NoError(t, err, string(out))
}

// The schema refuses what the parser and the compiler refuse in the fields
// an editor can judge alone: durations that are not more than zero, and
// conditions or lists that are literal numbers or booleans.
func TestSchemaRefusesWhatTheCompilerRefuses(t *testing.T) {
	sch := compileSchema(t)
	action := func(extra string) string {
		return "name: t\nnodes: [{id: a, kind: Action, action: noop, " + extra + "}]\n"
	}
	body := "[{id: b, kind: Action, action: noop}]"
	for name, src := range map[string]string{
		"negative timeout":    action(`timeout: "-5s"`),
		"zero timeout":        action(`timeout: 0s`),
		"bare zero timeout":   action(`timeout: "0"`),
		"zero retry interval": action(`retry: {initial_interval: 0ms}`),
		"number condition":    "name: t\nnodes: [{id: a, kind: If, condition: 1, then: " + body + "}]\n",
		"empty condition":     "name: t\nnodes: [{id: a, kind: If, condition: \" \", then: " + body + "}]\n",
		"number while":        "name: t\nnodes: [{id: a, kind: Loop, while: 1, body: " + body + "}]\n",
		"boolean for_each":    "name: t\nnodes: [{id: a, kind: Loop, for_each: true, body: " + body + "}]\n",
		"number when":         "name: t\nnodes: [{id: a, kind: Switch, cases: [{when: 2, nodes: " + body + "}]}]\n",
		"too many iterations": "name: t\nnodes: [{id: a, kind: Loop, while: x, max_iterations: 1000001, body: " + body + "}]\n",
		"fractional id":       "name: t\nnodes: [{id: 1.5, kind: Action, action: noop}]\n",
	} {
		require.Error(t, sch.Validate(asJSONValue(t, []byte(src))), name)
	}
	for name, src := range map[string]string{
		"timeout":           action(`timeout: 1m30s`),
		"plus timeout":      action(`timeout: "+5s"`),
		"fraction":          action(`timeout: 0.5s`),
		"boolean condition": "name: t\nnodes: [{id: a, kind: If, condition: true, then: " + body + "}]\n",
		"boolean while":     "name: t\nnodes: [{id: a, kind: Loop, while: false, body: " + body + "}]\n",
		"integer id":        "name: t\nnodes: [{id: 7, kind: Action, action: noop}]\n",
		"numeric version":   "name: t\nversion: 3\nnodes: [{id: a, kind: Action, action: noop}]\n",
	} {
		require.NoError(t, sch.Validate(asJSONValue(t, []byte(src))), name)
	}
}
