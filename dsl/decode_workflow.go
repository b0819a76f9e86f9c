package dsl

import "strings"

// workflow decodes the document's root.
func (d *decoder) workflow(root *Value) *Workflow {
	w := &Workflow{File: d.file, Pos: root.Pos}
	if root.Kind != Map {
		d.add(root.Pos, "a workflow must be a map with \"name\" and \"nodes\", got %s", root.Kind)
		return w
	}
	have := make(fieldSet, len(root.Map))
	for _, f := range root.Map {
		have[f.Key] = true
		v := f.Value
		switch f.Key {
		case "$schema":
			// For editors only.
		case "name":
			w.NamePos = v.Pos
			w.Name, _ = d.str(f.Key, v, true)
		case "version":
			switch v.Kind {
			case String:
				w.Version = v.Str
			case Int, Float:
				// "version: 3" is how most people write it.
				w.Version = scalarString(v)
			default:
				d.add(v.Pos, "%q must be a string, got %s", f.Key, v.Kind)
			}
		case "description":
			if !isAbsent(v) {
				w.Description, _ = d.str(f.Key, v, false)
			}
		case "inputs":
			w.Inputs = d.inputs(v)
		case "defaults":
			w.Defaults = d.defaults(v)
		case "functions":
			w.Functions = d.functions(v)
		case "nodes":
			w.NodesPos = v.Pos
			w.Nodes = d.nodeList(f.Key, v)
			if v.Kind == List && len(v.List) == 0 {
				d.add(v.Pos, "%q must hold at least one node", f.Key)
			}
		case "finally":
			w.FinallyPos = v.Pos
			w.Finally = d.nodeList(f.Key, v)
			if v.Kind == List && len(v.List) == 0 {
				d.add(v.Pos, "%q must hold at least one node", f.Key)
			}
		case "output":
			w.Output = v
		default:
			// "x-" keys are the file's own extensions, as in Compose
			// files: a home for anchors that the workflow reuses.
			if !strings.HasPrefix(f.Key, "x-") {
				have[d.unknown(f, names(workflowFields))] = true
			}
		}
	}
	d.require(have, root.Pos, "name", "nodes")
	return w
}

// inputs decodes the typed run inputs, in source order.
func (d *decoder) inputs(v *Value) []*Input {
	if isAbsent(v) {
		return nil
	}
	if v.Kind != Map {
		d.add(v.Pos, "%q must be a map of input names to declarations, got %s", "inputs", v.Kind)
		return nil
	}
	out := make([]*Input, 0, len(v.Map))
	for _, f := range v.Map {
		in := &Input{Name: f.Key, Pos: f.KeyPos}
		if strings.TrimSpace(f.Key) == "" {
			d.add(f.KeyPos, "an input name must not be empty")
		}
		out = append(out, in)
		decl := f.Value
		if isAbsent(decl) {
			continue // "name:" alone declares an optional input of any type
		}
		if decl.Kind != Map {
			d.add(decl.Pos, "input %q must be a map (type, default, required, description), got %s", f.Key, decl.Kind)
			continue
		}
		for _, g := range decl.Map {
			gv := g.Value
			switch g.Key {
			case "type":
				in.TypePos = gv.Pos
				t, ok := d.str(g.Key, gv, true)
				if !ok {
					continue
				}
				if !contains(inputTypes, t) {
					d.add(gv.Pos, "unknown input type %q%s", t, hintOrList(t, inputTypes))
					continue
				}
				in.Type = t
			case "default":
				in.Default = gv
			case "required":
				if gv.Kind != Bool {
					d.add(gv.Pos, "%q must be true or false, got %s", g.Key, describe(gv))
					continue
				}
				in.Required = gv.Bool
			case "description":
				if !isAbsent(gv) {
					in.Description, _ = d.str(g.Key, gv, false)
				}
			default:
				d.unknown(g, names(inputFields))
			}
		}
		if in.Default != nil && in.Type != "" && !fitsType(in.Default, in.Type) {
			d.add(in.Default.Pos, "the default of input %q must be %s, got %s", in.Name, article(in.Type), in.Default.Kind)
		}
	}
	return out
}

// fitsType reports whether v is a value of the declared input type. An
// integer is a number too; a float is not an integer even when whole, so
// that "3.0" stays visibly wrong for an integer input.
func fitsType(v *Value, t string) bool {
	switch t {
	case "string":
		return v.Kind == String
	case "integer":
		return v.Kind == Int
	case "number":
		return v.Kind == Int || v.Kind == Float
	case "boolean":
		return v.Kind == Bool
	case "list":
		return v.Kind == List
	case "map":
		return v.Kind == Map
	}
	return true
}

// defaults decodes the settings applied to every Action.
func (d *decoder) defaults(v *Value) *Defaults {
	if isAbsent(v) {
		return nil
	}
	if v.Kind != Map {
		d.add(v.Pos, "%q must be a map (timeout, retry, on_error), got %s", "defaults", v.Kind)
		return nil
	}
	def := &Defaults{Pos: v.Pos}
	for _, f := range v.Map {
		switch f.Key {
		case "timeout":
			def.Timeout = d.duration(f.Key, f.Value)
		case "retry":
			def.Retry = d.retry(f.Value)
		case "on_error":
			def.OnError = d.onError(f.Value)
		default:
			d.unknown(f, names(defaultsFields))
		}
	}
	return def
}

// functions decodes the reusable sub-flows, in source order.
func (d *decoder) functions(v *Value) []*Function {
	if isAbsent(v) {
		return nil
	}
	if v.Kind != Map {
		d.add(v.Pos, "%q must be a map of function names to {params, nodes}, got %s", "functions", v.Kind)
		return nil
	}
	out := make([]*Function, 0, len(v.Map))
	for _, f := range v.Map {
		fn := &Function{Name: f.Key, Pos: f.KeyPos}
		if strings.TrimSpace(f.Key) == "" {
			d.add(f.KeyPos, "a function name must not be empty")
		}
		out = append(out, fn)
		body := f.Value
		if body.Kind != Map {
			d.add(body.Pos, "function %q must be a map (params, nodes), got %s", f.Key, body.Kind)
			continue
		}
		have := make(fieldSet, len(body.Map))
		for _, g := range body.Map {
			have[g.Key] = true
			switch g.Key {
			case "params":
				fn.ParamsPos = g.Value.Pos
				fn.Params = d.params(g.Value)
			case "nodes":
				fn.Nodes = d.nodeList(g.Key, g.Value)
				if g.Value.Kind == List && len(g.Value.List) == 0 {
					d.add(g.Value.Pos, "%q must hold at least one node", g.Key)
				}
			default:
				have[d.unknown(g, names(functionFields))] = true
			}
		}
		d.require(have, body.Pos, "nodes")
	}
	return out
}

// params decodes a function's parameter names. They are read as
// params.NAME in expressions, hence the identifier rule.
func (d *decoder) params(v *Value) []string {
	if isAbsent(v) {
		return nil
	}
	if v.Kind != List {
		d.add(v.Pos, "%q must be a list of parameter names, got %s", "params", v.Kind)
		return nil
	}
	out := make([]string, 0, len(v.List))
	seen := make(map[string]bool, len(v.List))
	for _, e := range v.List {
		if e.Kind != String {
			d.add(e.Pos, "a parameter name must be a string, got %s", e.Kind)
			continue
		}
		if !isIdent(e.Str) {
			d.add(e.Pos, "parameter name %q must be an identifier (letters, digits and \"_\", not starting with a digit)", e.Str)
			continue
		}
		if seen[e.Str] {
			d.add(e.Pos, "parameter %q is listed twice", e.Str)
			continue
		}
		seen[e.Str] = true
		out = append(out, e.Str)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// hintOrList points at the likely intended word, or lists the choices when
// nothing is close.
func hintOrList(word string, choices []string) string {
	if h := Hint(word, choices); h != "" {
		return h
	}
	return " (want " + strings.Join(choices[:len(choices)-1], ", ") + " or " + choices[len(choices)-1] + ")"
}
