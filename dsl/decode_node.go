package dsl

import (
	"fmt"
	"strings"
	"time"
)

// node decodes one node. A node whose kind is unknown is still returned,
// with Kind as written, so the compiler can go on checking the rest of the
// file; its kind-specific fields are left alone, since there is no telling
// which ones the user meant.
func (d *decoder) node(v *Value) *Node {
	if v.Kind != Map {
		d.add(v.Pos, "a node must be a map with \"id\" and \"kind\", got %s", v.Kind)
		return nil
	}
	n := &Node{Pos: v.Pos, FieldPos: make(map[string]Pos, len(v.Map))}
	have := make(fieldSet, len(v.Map))
	for _, f := range v.Map {
		n.FieldPos[f.Key] = f.KeyPos
		have[f.Key] = true
	}
	known := d.idAndKind(n, v)
	var own []field
	if known {
		own = kindFields[n.Kind]
	}
	for _, f := range v.Map {
		fv := f.Value
		switch f.Key {
		case "id", "kind":
		case "name":
			if !isAbsent(fv) {
				n.Name, _ = d.str(f.Key, fv, false)
			}
		case "timeout":
			n.Timeout = d.duration(f.Key, fv)
		case "retry":
			n.Retry = d.retry(fv)
		case "on_error":
			n.OnErrPos = fv.Pos
			n.OnError = d.onError(fv)
		case "catch":
			n.HasCatch = true
			n.Catch = d.nodeList(f.Key, fv)
		case "break_if":
			n.BreakIf = d.expression(f.Key, fv)
		case "depends":
			d.depends(n, fv)
		case "trigger_rule":
			d.triggerRule(n, fv)
		default:
			switch {
			case !known && nodeFieldNames[f.Key]:
				// Which kind's field it is cannot be told.
			case !known:
				have[d.unknown(f, allNodeFields)] = true
			case has(own, f.Key):
				d.kindField(n, f)
			case nodeFieldNames[f.Key]:
				d.add(f.KeyPos, "field %q is not allowed on %s node", f.Key, article(n.Kind))
			default:
				have[d.unknown(f, append(names(commonFields), names(own)...))] = true
			}
		}
	}
	d.require(have, v.Pos, "id", "kind")
	if known {
		d.require(have, v.Pos, kindRequired[n.Kind]...)
		d.checkKind(n, v)
	}
	return n
}

// idAndKind reads the two fields every node needs and reports whether the
// kind is one of Kinds. A missing one is reported by the caller, who knows
// whether a misspelt key already stands for it.
func (d *decoder) idAndKind(n *Node, v *Value) bool {
	if id := v.Get("id"); id != nil {
		n.IDPos = id.Pos
		switch id.Kind {
		case String:
			n.ID = id.Str
		case Int:
			n.ID = scalarString(id) // "id: 1" matches the id pattern too
		default:
			d.add(id.Pos, "%q must be a string, got %s", "id", id.Kind)
		}
		if (id.Kind == String || id.Kind == Int) && !isID(n.ID) {
			d.add(id.Pos, "invalid id %q: use letters, digits, \"_\" and \"-\" only", n.ID)
		}
	}
	k := v.Get("kind")
	if k == nil {
		return false
	}
	n.KindPos = k.Pos
	if k.Kind != String {
		d.add(k.Pos, "%q must be a string, got %s", "kind", k.Kind)
		return false
	}
	n.Kind = k.Str
	if _, ok := kindFields[k.Str]; ok {
		return true
	}
	if h := Hint(k.Str, Kinds); h != "" {
		d.add(k.Pos, "unknown kind %q%s", k.Str, h)
	} else if strings.EqualFold(k.Str, "dag") || strings.EqualFold(k.Str, "dag_tasks") {
		d.add(k.Pos, "unknown kind %q; did you mean \"Graph\"? Its nodes name what they wait for with depends", k.Str)
	} else {
		d.add(k.Pos, "unknown kind %q; the kinds are %s", k.Str, strings.Join(Kinds, ", "))
	}
	return false
}

// kindField decodes one field that belongs to the node's kind.
func (d *decoder) kindField(n *Node, f *Field) {
	v := f.Value
	switch f.Key {
	// Action
	case "action":
		n.ActionPos = v.Pos
		n.Action, _ = d.str(f.Key, v, true)
	case "params":
		n.Params = d.mapping(f.Key, v)

	// Parallel
	case "branches":
		n.BranchesPos = v.Pos
		n.Branches = d.branches(v)
	case "max_concurrency":
		n.MaxConcurrency = d.integer(f.Key, v, 0)
	case "mode":
		if m, ok := d.str(f.Key, v, true); ok {
			n.ModePos = v.Pos
			switch m {
			case "all":
			case "first":
				n.Mode = m
			default:
				hint := Hint(m, []string{"all", "first"})
				if m == "race" || m == "any" || m == "compete" {
					hint = `; did you mean "first"?`
				}
				d.add(v.Pos, "unknown mode %q%s (the modes are all and first)", m, hint)
			}
		}
	case "fail_fast":
		if v.Kind != Bool {
			d.add(v.Pos, "%q must be true or false, got %s", f.Key, describe(v))
		} else {
			b := v.Bool
			n.FailFast = &b
		}

	// If
	case "condition":
		n.Condition = d.expression(f.Key, v)
	case "then":
		n.Then = d.nodeList(f.Key, v)
	case "else":
		if !isAbsent(v) {
			n.HasElse = true
			n.Else = d.nodeList(f.Key, v)
		}

	// Loop
	case "while":
		n.While = d.expression(f.Key, v)
	case "for_each":
		n.ForEach = d.expression(f.Key, v)
	case "as":
		if s, ok := d.str(f.Key, v, true); ok {
			if isIdent(s) {
				n.As = s
			} else {
				d.add(v.Pos, "%q must be an identifier (letters, digits and \"_\", not starting with a digit), got %q", f.Key, s)
			}
		}
	case "concurrency":
		n.Concurrency = d.integer(f.Key, v, 0)
	case "body":
		n.Body = d.nodeList(f.Key, v)
	case "max_iterations":
		n.MaxIterationsPos = v.Pos
		n.MaxIterations = d.integer(f.Key, v, 1)

	// Call
	case "function":
		n.FunctionPos = v.Pos
		n.Function, _ = d.str(f.Key, v, true)
	case "args":
		n.Args = d.mapping(f.Key, v)

	// Switch
	case "cases":
		n.Cases = d.cases(v)
	case "default":
		if !isAbsent(v) {
			n.HasDefault = true
			n.Default = d.nodeList(f.Key, v)
		}

	// Graph
	case "graph":
		n.GraphPos = v.Pos
		n.Graph = d.nodeList(f.Key, v)

	// Wait
	case "duration":
		n.Duration = d.waitDuration(v)
	case "until":
		if n.Kind == "Loop" {
			n.LoopUntil = d.expression(f.Key, v)
		} else if _, ok := d.str(f.Key, v, true); ok {
			n.Until = v
		}
	}
}

// checkKind reports fields that exclude each other. A Loop's concurrency
// defaults to 1 here, so that later stages never guess.
func (d *decoder) checkKind(n *Node, v *Value) {
	switch n.Kind {
	case "Loop":
		d.oneOfLoop(n, v)
		_, w := n.FieldPos["while"]
		_, u := n.FieldPos["until"]
		if w || u {
			for _, name := range []string{"as", "concurrency"} {
				if p, ok := n.FieldPos[name]; ok {
					d.add(p, "%q only applies to a for_each Loop", name)
				}
			}
		}
		if _, ok := n.FieldPos["concurrency"]; !ok {
			n.Concurrency = 1
		}
	case "Wait":
		d.oneOf(n, v, "duration", "until")
	}
}

// oneOfLoop reports a Loop that sets more or fewer than one of while,
// until and for_each.
func (d *decoder) oneOfLoop(n *Node, v *Value) {
	var set []string
	var last Pos
	for _, f := range []string{"while", "until", "for_each"} {
		if p, ok := n.FieldPos[f]; ok {
			set = append(set, f)
			if len(set) == 1 || p.Line > last.Line || (p.Line == last.Line && p.Col > last.Col) {
				last = p
			}
		}
	}
	switch len(set) {
	case 0:
		d.add(v.Pos, "a Loop node needs \"while\", \"until\" or \"for_each\"")
	case 1:
	default:
		d.add(last, "a Loop node takes one of \"while\", \"until\" and \"for_each\", not %s", strings.Join(quoteAll(set), " and "))
	}
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// oneOf reports a node that sets both or neither of two exclusive fields.
func (d *decoder) oneOf(n *Node, v *Value, a, b string) {
	pa, hasA := n.FieldPos[a]
	pb, hasB := n.FieldPos[b]
	switch {
	case hasA && hasB:
		later := pb
		if pb.Line < pa.Line || (pb.Line == pa.Line && pb.Col < pa.Col) {
			later = pa
		}
		d.add(later, "%s node takes %q or %q, not both", article(n.Kind), a, b)
	case !hasA && !hasB:
		d.add(v.Pos, "%s node needs %q or %q", article(n.Kind), a, b)
	}
}

// branches decodes a Parallel's branches. Writing a branch as a plain node
// instead of a list of nodes is the classic slip ("- id: a" where "- - id:
// a" was meant), so it gets its own message.
func (d *decoder) branches(v *Value) [][]*Node {
	if v.Kind != List {
		d.add(v.Pos, "%q must be a list of branches, each a list of nodes, got %s", "branches", v.Kind)
		return nil
	}
	if len(v.List) == 0 {
		d.add(v.Pos, "%q must hold at least one branch", "branches")
		return nil
	}
	out := make([][]*Node, 0, len(v.List))
	for _, b := range v.List {
		switch b.Kind {
		case List:
			out = append(out, d.nodeList("branch", b))
		case Map:
			d.add(b.Pos, "a branch must be a list of nodes, got map; start each branch with \"- - \" (a list inside the list)")
		default:
			d.add(b.Pos, "a branch must be a list of nodes, got %s", b.Kind)
		}
	}
	return out
}

// cases decodes a Switch's cases.
func (d *decoder) cases(v *Value) []*Case {
	if v.Kind != List {
		d.add(v.Pos, "%q must be a list of {when, nodes}, got %s", "cases", v.Kind)
		return nil
	}
	if len(v.List) == 0 {
		d.add(v.Pos, "%q must hold at least one case", "cases")
		return nil
	}
	out := make([]*Case, 0, len(v.List))
	for _, e := range v.List {
		if e.Kind != Map {
			d.add(e.Pos, "a case must be a map with \"when\" and \"nodes\", got %s", e.Kind)
			continue
		}
		c := &Case{Pos: e.Pos}
		have := make(fieldSet, len(e.Map))
		for _, f := range e.Map {
			have[f.Key] = true
			switch f.Key {
			case "when":
				c.When = d.expression(f.Key, f.Value)
			case "nodes":
				c.Nodes = d.nodeList(f.Key, f.Value)
			default:
				have[d.unknown(f, names(caseFields))] = true
			}
		}
		d.require(have, e.Pos, "when", "nodes")
		out = append(out, c)
	}
	return out
}

// waitDuration reads a Wait's duration: a literal is checked here, anything
// that is not one is left to the compiler as an expression.
func (d *decoder) waitDuration(v *Value) *Value {
	if v.Kind != String {
		d.add(v.Pos, "%q must be a duration such as \"30s\", got %s", "duration", describe(v))
		return nil
	}
	s, ok := d.str("duration", v, true)
	if !ok {
		return nil
	}
	if dur, err := time.ParseDuration(strings.TrimSpace(s)); err == nil && dur <= 0 {
		d.add(v.Pos, "%q must be more than 0, got %s", "duration", describe(v))
		return nil
	}
	return v
}

// depends reads a node's dependencies: one id or a list of ids.
func (d *decoder) depends(n *Node, v *Value) {
	if isAbsent(v) {
		return
	}
	one := func(e *Value) {
		switch e.Kind {
		case String:
			n.Depends = append(n.Depends, e.Str)
			n.DependsPos = append(n.DependsPos, e.Pos)
		case Int:
			n.Depends = append(n.Depends, scalarString(e))
			n.DependsPos = append(n.DependsPos, e.Pos)
		default:
			d.add(e.Pos, "%q must name node ids, got %s", "depends", describe(e))
		}
	}
	if v.Kind == List {
		for _, e := range v.List {
			one(e)
		}
		return
	}
	one(v)
}

// triggerRule reads a node's trigger_rule, with a hint for the names other
// engines use.
func (d *decoder) triggerRule(n *Node, v *Value) {
	s, ok := d.str("trigger_rule", v, true)
	if !ok {
		return
	}
	n.TriggerRulePos = v.Pos
	for _, r := range TriggerRules {
		if s == r {
			n.TriggerRule = s
			return
		}
	}
	alias := map[string]string{
		"all_success": AllSucceeded, "one_failed": AnyFailed, "all_failed": AnyFailed,
		"always": AllDone, "none_failed": NoneFailedMinOneSuccess,
	}
	hint := Hint(s, TriggerRules)
	if a, ok := alias[strings.ToLower(s)]; ok {
		hint = fmt.Sprintf("; did you mean %q?", a)
	}
	d.add(v.Pos, "unknown trigger_rule %q%s (the rules are %s)", s, hint, strings.Join(TriggerRules, ", "))
}
