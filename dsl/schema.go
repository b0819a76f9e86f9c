package dsl

import (
	"encoding/json"
	"sync"
)

// SchemaID is the $id of the JSON Schema, for a "$schema:" line or an
// editor's schema mapping.
const SchemaID = "https://github.com/skript-dev/skript/schema/workflow.json"

// Schema returns a JSON Schema (draft 2020-12) of workflow files, pretty
// printed. Editors with a YAML language server use it to complete field
// names and kinds and to flag wrong fields while the user types; Skript's
// own checks are Parse's and the compiler's, which go further (expressions,
// references, action parameters). It is built from the same field tables
// the parser uses, so the two agree on every field.
func Schema() []byte {
	b := schemaJSON()
	out := make([]byte, len(b))
	copy(out, b) // the caller may scribble on its copy
	return out
}

var schemaJSON = sync.OnceValue(func() []byte {
	b, err := json.MarshalIndent(buildSchema(), "", "  ")
	if err != nil {
		panic(err) // the schema is static data; this cannot fail at run time
	}
	return append(b, '\n')
})

func buildSchema() map[string]any {
	defs := map[string]any{
		"input": object("A typed run input.", inputFields, nil),
		"defaults": object("Settings applied to every Action node that does not set them itself.",
			defaultsFields, nil),
		"retry":    object("A retry policy with exponential backoff.", retryFields, nil),
		"function": object("A reusable sub-flow, inlined at each Call node.", functionFields, []string{"nodes"}),
		"case":     object("One arm of a Switch.", caseFields, []string{"when", "nodes"}),
		"nodeList": map[string]any{
			"description": "A list of nodes, run top to bottom.",
			"type":        "array",
			"items":       ref("node"),
		},
	}
	defs["input"].(map[string]any)["allOf"] = inputTypeRules()
	// A node is first matched on its kind, so an editor completes "kind"
	// before it knows anything else; the kind then selects the fields.
	var byKind []any
	for _, k := range Kinds {
		s := object(kindDocs[k], nodeFields(k), append([]string{"id", "kind"}, kindRequired[k]...))
		s["properties"].(map[string]any)["kind"] = map[string]any{"const": k, "description": kindDocs[k]}
		switch k {
		case "Loop":
			s["oneOf"] = []any{requires("while"), requires("until"), requires("for_each")}
		case "Action":
			// The compiler refuses a catch block that on_error: continue
			// would never reach.
			s["not"] = map[string]any{
				"required": []any{"catch", "on_error"},
				// catch is listed so that ajv's strict mode sees every
				// required property defined.
				"properties": map[string]any{"on_error": map[string]any{"const": "continue"}, "catch": map[string]any{}},
			}
		case "Wait":
			s["oneOf"] = []any{requires("duration"), requires("until")}
		}
		if k == "Parallel" || k == "Loop" {
			// on_error and catch collect the failures of a fail_fast:
			// false node (a for_each one, for a Loop).
			need := map[string]any{"required": []any{"fail_fast"}, "properties": map[string]any{"fail_fast": map[string]any{"const": false}}}
			if k == "Loop" {
				need["required"] = []any{"fail_fast", "for_each"}
				need["properties"].(map[string]any)["for_each"] = map[string]any{}
			} else {
				// A race collects its branches' failures too.
				need = map[string]any{"anyOf": []any{need,
					map[string]any{"required": []any{"mode"}, "properties": map[string]any{"mode": map[string]any{"const": "first"}}}}}
			}
			s["dependentSchemas"] = map[string]any{"catch": need, "on_error": need}
		}
		defs[k] = s
		byKind = append(byKind, map[string]any{
			"if": map[string]any{
				"properties": map[string]any{"kind": map[string]any{"const": k}},
				"required":   []any{"kind"},
			},
			"then": ref(k),
		})
	}
	defs["node"] = map[string]any{
		"description": "One workflow node; its kind decides which other fields it takes.",
		"type":        "object",
		"required":    []any{"id", "kind"},
		"properties": map[string]any{
			"id":   fieldSchema(commonFields[0]),
			"kind": fieldSchema(commonFields[1]),
		},
		"allOf": byKind,
	}

	root := object("A Skript workflow: typed inputs, reusable functions and the nodes to run.",
		workflowFields, []string{"name", "nodes"})
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = SchemaID
	root["title"] = "Skript workflow"
	root["$defs"] = defs
	root["patternProperties"] = map[string]any{
		"^x-": map[string]any{"description": "An extension field, ignored by Skript: a home for YAML anchors."},
	}
	return root
}

// requires is a subschema that holds when the field is present. It names the
// field under properties too, which ajv's strict mode asks of every
// required field.
func requires(name string) map[string]any {
	return map[string]any{"required": []any{name}, "properties": map[string]any{name: map[string]any{}}}
}

// object is the schema of a mapping that takes exactly the given fields.
func object(doc string, fs []field, required []string) map[string]any {
	props := make(map[string]any, len(fs))
	for _, f := range fs {
		props[f.name] = fieldSchema(f)
	}
	s := map[string]any{
		"description":          doc,
		"type":                 "object",
		"properties":           props,
		"additionalProperties": false,
	}
	if len(required) > 0 {
		s["required"] = anyList(required)
	}
	return s
}

// fieldSchema copies the field's value schema and adds its description;
// the copy matters because several fields share one value schema.
func fieldSchema(f field) map[string]any {
	s := make(map[string]any, len(f.schema)+1)
	for k, v := range f.schema {
		s[k] = v
	}
	s["description"] = f.doc
	return s
}

// inputTypeRules make an editor flag a default that does not fit the
// declared type, as Parse does.
func inputTypeRules() []any {
	jsonType := map[string]string{
		"string": "string", "integer": "integer", "number": "number",
		"boolean": "boolean", "list": "array", "map": "object",
	}
	var out []any
	for _, t := range inputTypes {
		out = append(out, map[string]any{
			"if": map[string]any{
				"properties": map[string]any{"type": map[string]any{"const": t}},
				"required":   []any{"type"},
			},
			"then": map[string]any{
				"properties": map[string]any{"default": map[string]any{"type": jsonType[t]}},
			},
		})
	}
	return out
}
