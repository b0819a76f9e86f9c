package compiler

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/dsl"
)

// check applies the rules that need no knowledge of where a node ends up:
// each node's own fields, its action and params, the functions it calls.
// Function bodies are checked once, where they are defined, so a mistake in
// a function is reported once however often it is called (and also when it
// is never called).
func (c *compiler) check() {
	c.checkInputs()
	c.funcs = map[string]*dsl.Function{}
	for _, f := range c.wf.Functions {
		if f == nil {
			continue
		}
		if prev, dup := c.funcs[f.Name]; dup {
			c.errorf(f.Pos, "duplicate function %q (first defined at %d:%d)", f.Name, prev.Pos.Line, prev.Pos.Col)
			continue
		}
		c.funcs[f.Name] = f
	}
	c.checkRecursion()
	c.checkIDs()
	c.checkPlacement()
	c.checkSeq(c.wf.Nodes)
	c.checkSeq(c.wf.Finally)
	for _, f := range c.wf.Functions {
		if f != nil && c.funcs[f.Name] == f {
			c.checkSeq(f.Nodes)
		}
	}
}

// checkIDs reports every node id written more than once in the file. Ids
// are unique across the top level and every function, not per function:
// a run record, a log line or an error names a node by the id the author
// wrote, and `nodes.X` inside a function must not look like it could reach
// the caller's X. (Inlining then gives unique full ids: a Call's nodes are
// CALLID.INNERID, and a valid id holds no dot.)
func (c *compiler) checkIDs() {
	type def struct {
		n  *dsl.Node
		fn string // the function the node is written in; "" at the top level
	}
	var defs []def
	collect := func(nodes []*dsl.Node, fn string) {
		walkNodes(nodes, func(n *dsl.Node) {
			if n.ID != "" {
				defs = append(defs, def{n, fn})
			}
		})
	}
	collect(c.wf.Nodes, "")
	collect(c.wf.Finally, "")
	for _, f := range c.wf.Functions {
		// A second definition of a function is reported on its own; its
		// nodes would only add echoes of that mistake.
		if f != nil && c.funcs[f.Name] == f {
			collect(f.Nodes, f.Name)
		}
	}
	// "First" means first in the file: functions may be written before or
	// after the top-level nodes. An AST built without positions keeps its
	// walk order.
	at := func(d def) dsl.Pos { return firstPos(d.n.IDPos, d.n.Pos) }
	if !slices.ContainsFunc(defs, func(d def) bool { return !at(d).IsValid() }) {
		slices.SortStableFunc(defs, func(a, b def) int {
			pa, pb := at(a), at(b)
			if pa.Line != pb.Line {
				return pa.Line - pb.Line
			}
			return pa.Col - pb.Col
		})
	}
	first := make(map[string]def, len(defs))
	for _, d := range defs {
		f, dup := first[d.n.ID]
		if !dup {
			first[d.n.ID] = d
			continue
		}
		p := at(f)
		where := ""
		if f.fn != d.fn {
			if f.fn == "" {
				where = ", in the top-level nodes"
			} else {
				where = fmt.Sprintf(", in function %q", f.fn)
			}
			where += "; ids are unique in the whole file, functions included"
		}
		c.errorf(at(d), "duplicate node id %q (first defined at %d:%d%s)", d.n.ID, p.Line, p.Col, where)
	}
}

// checkInputs collects the declared inputs and hands their types to the
// expression checker; their types and defaults are checked by the parser.
func (c *compiler) checkInputs() {
	if len(c.wf.Inputs) == 0 {
		return
	}
	c.inputs = map[string]bool{}
	types := map[string]string{}
	for _, in := range c.wf.Inputs {
		if in != nil {
			c.inputs[in.Name] = true
			types[in.Name] = in.Type
		}
	}
	c.tr.DeclareInputs(types)
}

func (c *compiler) checkSeq(nodes []*dsl.Node) {
	for _, n := range nodes {
		if n != nil {
			c.checkNode(n)
		}
	}
}

func (c *compiler) checkNode(n *dsl.Node) {
	c.checkCommon(n)
	switch n.Kind {
	case "Action":
		c.checkAction(n)
		c.checkSeq(n.Catch)
	case "Parallel":
		if len(n.Branches) == 0 {
			c.errorf(firstPos(n.BranchesPos, n.FieldPos["branches"], n.Pos), "Parallel needs at least one branch")
		}
		if len(n.Branches) > MaxParallelBranches {
			c.errorf(firstPos(n.BranchesPos, n.FieldPos["branches"], n.Pos),
				"Parallel has %d branches; the limit is %d: run the same steps over a list with a for_each Loop instead",
				len(n.Branches), MaxParallelBranches)
		}
		if n.MaxConcurrency < 0 {
			c.errorf(fieldPos(n, "max_concurrency"), "max_concurrency must not be negative (0 means no limit)")
		}
		if races(n) && n.FailFast != nil && *n.FailFast {
			c.errorf(fieldPos(n, "fail_fast"), "a race (mode: first) runs on after a branch fails, until one succeeds: fail_fast does not apply")
		}
		for _, b := range n.Branches {
			c.checkSeq(b)
		}
	case "If":
		c.checkSeq(n.Then)
		c.checkSeq(n.Else)
	case "Loop":
		c.checkLoop(n)
		if n.FailFast != nil && sequential(n) {
			c.errorf(fieldPos(n, "fail_fast"), "fail_fast applies to a Parallel or a for_each Loop; the iterations of a while or until loop run one after another, each after the last has succeeded")
		}
		c.checkSeq(n.Body)
	case "Call":
		c.checkCall(n)
	case "Switch":
		for _, cs := range n.Cases {
			if cs != nil {
				c.checkSeq(cs.Nodes)
			}
		}
		c.checkSeq(n.Default)
	case "Wait":
	case "Graph":
		c.checkGraph(n)
		c.checkSeq(n.Graph)
	default:
		// An unknown kind was reported by the parser, with a hint.
	}
}

// checkCommon checks the options every node may carry. Retries, on_error
// and catch are supported on Action nodes only: a composite node's failure
// is the failure of one of its Actions, which carries its own policy, and
// the Blueprint attaches these policies to a Task's steps. A timeout is an
// Action's or a Wait's (which fails when it would wait longer, see
// lowerWait); a composite's time is bounded by the timeouts of what it runs.
func (c *compiler) checkCommon(n *dsl.Node) {
	if collects(n) || n.Kind == "Action" {
		if n.HasCatch && n.OnError == "continue" {
			c.errorf(fieldPos(n, "catch"), "catch and on_error: continue exclude each other: a failure is either handled by the catch block or recorded and passed over")
		}
		if n.Kind == "Action" {
			return
		}
	}
	if !isKind(n.Kind) {
		return
	}
	if n.Timeout != nil && n.Kind != "Wait" {
		c.errorf(firstPos(n.FieldPos["timeout"], n.Timeout.Pos, n.Pos), "timeout is only supported on Action and Wait nodes")
	}
	if n.Retry != nil {
		c.errorf(firstPos(n.FieldPos["retry"], n.Retry.Pos, n.Pos), "retry is only supported on Action nodes")
	}
	hint := ""
	if n.Kind == "Parallel" || n.Kind == "Loop" && n.ForEach != nil {
		hint = fmt.Sprintf(" and on a %s with fail_fast: false, which collects every failure inside it", n.Kind)
	}
	if n.Kind == "Parallel" {
		hint += " (or with mode: first)"
	}
	if collects(n) {
		return
	}
	if n.OnError != "" {
		c.errorf(firstPos(n.FieldPos["on_error"], n.OnErrPos, n.Pos), "on_error is only supported on Action nodes%s", hint)
	}
	if n.HasCatch {
		c.errorf(fieldPos(n, "catch"), "catch is only supported on Action nodes%s", hint)
	}
}

// collects says whether a node runs every branch or iteration and fails
// with all their failures: a Parallel or for_each Loop with fail_fast:
// false.
func collects(n *dsl.Node) bool {
	return n.FailFast != nil && !*n.FailFast && (n.Kind == "Parallel" || n.Kind == "Loop" && n.ForEach != nil) || races(n)
}

// races says whether a node is a Parallel with mode: first: its branches
// race, and their failures are collected until one succeeds.
func races(n *dsl.Node) bool { return n.Kind == "Parallel" && n.Mode == "first" }

func isKind(k string) bool { return slices.Contains(dsl.Kinds, k) }

// checkAction checks the action name and the params against its schema:
// which keys are written (shared with the runtime through
// Schema.CheckKeys), and each literal value. Values holding templates are
// checked when the run evaluates them, unless they fold to constants
// (checked in refs.go).
func (c *compiler) checkAction(n *dsl.Node) {
	if n.Action == "" {
		return // reported by the parser
	}
	a, ok := c.reg.Lookup(n.Action)
	if !ok {
		if slices.Contains(c.denied, n.Action) {
			c.errorf(firstPos(n.ActionPos, n.Pos), "action %q is denied on this host (--deny-action)", n.Action)
			return
		}
		c.errorf(firstPos(n.ActionPos, n.Pos), "unknown action %q%s", n.Action, dsl.Hint(n.Action, c.reg.Names()))
		return
	}
	params := n.Params
	if _, written := n.FieldPos["params"]; written && params == nil {
		// The parser refused the value (not a map): which params are
		// missing cannot be told.
		return
	}
	var keys []string
	var fields []*dsl.Field
	if params != nil {
		for _, f := range params.Map {
			if f.Value != nil && f.Value.Kind != dsl.Null {
				keys = append(keys, f.Key)
				fields = append(fields, f)
			}
		}
	}
	c.checkShellCommand(n)
	schema := &a.Schema
	for _, err := range schema.CheckKeys(keys) {
		c.paramError(n, a, fields, err)
	}
	for _, f := range fields {
		if fd, ok := schema.Field(f.Key); ok {
			c.checkParam(a, f.Key, fd, f.Value, nil, false)
		}
	}
}

// checkParam checks one param value against its field, descending into
// struct-shaped values so that their keys and values are reported where
// they are written, by their path (`in.tag`, `items[1].wait`). The literal
// pass (folded false) checks keys and every value without a template; the
// pass after constant folding checks only the templated values, which
// folded holds.
func (c *compiler) checkParam(a *action.Action, path string, fd *action.Field, v *dsl.Value, folded any, afterFold bool) {
	if v == nil {
		return
	}
	switch {
	case fd.Struct != nil && v.Kind == dsl.Map:
		m, _ := folded.(map[string]any)
		c.checkStruct(a, path, fd.Struct, v, m, afterFold)
		return
	case fd.ElemStruct != nil && (v.Kind == dsl.List || v.Kind == dsl.Map):
		elem := &action.Field{Type: action.Map, Struct: fd.ElemStruct}
		if v.Kind == dsl.List {
			l, _ := folded.([]any)
			for i, e := range v.List {
				c.checkParam(a, fmt.Sprintf("%s[%d]", path, i), elem, e, index(l, i), afterFold)
			}
			return
		}
		m, _ := folded.(map[string]any)
		for _, f := range v.Map {
			c.checkParam(a, fmt.Sprintf("%s[%q]", path, f.Key), elem, f.Value, m[f.Key], afterFold)
		}
		return
	}
	if !hasTemplate(v) {
		if !afterFold {
			if err := fd.CheckValue(v.Go()); err != nil {
				c.errorf(v.Pos, "param %q of action %q %v%s", path, a.Name, err, durationHint(fd, v.Go()))
			}
		}
		return
	}
	if afterFold && folded != nil {
		if err := fd.CheckValue(folded); err != nil {
			c.errorf(v.Pos, "param %q of action %q %v%s", path, a.Name, err, durationHint(fd, folded))
		}
	}
}

// durationHint is dsl.UnitHint for a duration param.
func durationHint(fd *action.Field, v any) string {
	if fd.Type != action.Duration {
		return ""
	}
	return dsl.UnitHint(v)
}

// checkStruct checks a map written for a struct-shaped param: unknown and
// missing keys (in the literal pass), then each value.
func (c *compiler) checkStruct(a *action.Action, path string, s *action.Schema, v *dsl.Value, folded map[string]any, afterFold bool) {
	var fields []*dsl.Field
	var keys []string
	for _, f := range v.Map {
		if f.Value != nil && f.Value.Kind != dsl.Null {
			keys = append(keys, f.Key)
			fields = append(fields, f)
		}
	}
	if !afterFold {
		for _, err := range s.CheckKeys(keys) {
			c.nestedKeyError(a, path, s, v, fields, err)
		}
	}
	for _, f := range fields {
		if fd, ok := s.Field(f.Key); ok {
			c.checkParam(a, path+"."+f.Key, fd, f.Value, folded[f.Key], afterFold)
		}
	}
}

// nestedKeyError positions an unknown key of a struct-shaped param at the
// key, a missing one at the map that lacks it.
func (c *compiler) nestedKeyError(a *action.Action, path string, s *action.Schema, v *dsl.Value, fields []*dsl.Field, err error) {
	var pe *action.ParamError
	if !errors.As(err, &pe) {
		c.errorf(v.Pos, "param %q of action %q %v", path, a.Name, err)
		return
	}
	for _, f := range fields {
		if f.Key != pe.Param {
			continue
		}
		names := fieldNames(s)
		hint := dsl.Hint(f.Key, names)
		if hint == "" {
			hint = "; it takes " + quoteList(names)
		}
		c.errorf(firstPos(f.KeyPos, v.Pos), "unknown key %q in param %q of action %q%s", f.Key, path, a.Name, hint)
		return
	}
	c.errorf(v.Pos, "param %q of action %q needs key %q", path, a.Name, pe.Param)
}

func index(l []any, i int) any {
	if i < len(l) {
		return l[i]
	}
	return nil
}

// paramError positions one problem reported by Schema.CheckKeys: an unknown
// param at its key, a missing one at the params map (or the node).
func (c *compiler) paramError(n *dsl.Node, a *action.Action, fields []*dsl.Field, err error) {
	where := firstPos(n.FieldPos["params"], n.Pos)
	var pe *action.ParamError
	if !errors.As(err, &pe) {
		c.errorf(where, "action %q %v", a.Name, err)
		return
	}
	for _, f := range fields {
		if f.Key != pe.Param {
			continue
		}
		// A written key: CheckKeys only refuses written keys as unknown.
		names := fieldNames(&a.Schema)
		if len(names) == 0 {
			c.errorf(firstPos(f.KeyPos, where), "unknown param %q: action %q takes no params", f.Key, a.Name)
			return
		}
		hint := dsl.Hint(f.Key, names)
		if hint == "" {
			hint = "; it takes " + quoteList(names)
		}
		c.errorf(firstPos(f.KeyPos, where), "unknown param %q for action %q%s", f.Key, a.Name, hint)
		return
	}
	c.errorf(where, "action %q needs param %q", a.Name, pe.Param)
}

func fieldNames(s *action.Schema) []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Name
	}
	return out
}

// hasTemplate reports whether a value holds a `${{` anywhere.
func hasTemplate(v *dsl.Value) bool {
	if v == nil {
		return false
	}
	switch v.Kind {
	case dsl.String:
		return strings.Contains(v.Str, "${{")
	case dsl.List:
		return slices.ContainsFunc(v.List, hasTemplate)
	case dsl.Map:
		for _, f := range v.Map {
			if hasTemplate(f.Value) {
				return true
			}
		}
	}
	return false
}

// MaxIterationsLimit is the largest max_iterations a Loop may set. Every
// iteration leaves records in the run (its index, its item, the results of
// its nodes), so a run's size grows with its iterations; a loop that needs
// more should split its work into runs.
const MaxIterationsLimit = 1_000_000

// MaxParallelBranches is the most branches one Parallel may have. Each
// branch is written out node by node in the Blueprint, which every task
// loads; wide fan-out over data is what a for_each Loop is for, and it
// costs one body however long the list.
const MaxParallelBranches = 10_000

// reservedNames cannot be a loop's `as` name: they already mean something
// in every expression.
var reservedNames = []string{"input", "run", "nodes", "params", "error", "index", "iteration", "previous"}

func (c *compiler) checkLoop(n *dsl.Node) {
	if n.MaxIterationsPos.IsValid() && n.MaxIterations <= 0 {
		c.errorf(n.MaxIterationsPos, "max_iterations must be greater than 0")
	}
	if n.MaxIterations > MaxIterationsLimit {
		c.errorf(firstPos(n.MaxIterationsPos, n.Pos), "max_iterations is %d; the limit is %d", n.MaxIterations, MaxIterationsLimit)
	}
	if n.Concurrency < 0 {
		c.errorf(fieldPos(n, "concurrency"), "concurrency must not be negative (0 means no limit)")
	}
	if sequential(n) {
		if _, ok := n.FieldPos["as"]; ok {
			c.errorf(fieldPos(n, "as"), "as names the element of a for_each loop; a while loop has iteration")
		}
		if _, ok := n.FieldPos["concurrency"]; ok {
			c.errorf(fieldPos(n, "concurrency"), "concurrency applies to for_each loops; while iterations run one after another")
		}
		return
	}
	if n.As != "" {
		if slices.Contains(reservedNames, n.As) {
			c.errorf(fieldPos(n, "as"), "as: %q is a reserved name", n.As)
		} else if !isIdent(n.As) {
			c.errorf(fieldPos(n, "as"), "as: %q is not a valid name (letters, digits and _)", n.As)
		}
	}
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9'
		if !ok {
			return false
		}
	}
	return true
}

// checkCall checks that the function exists and that the args match its
// params exactly.
func (c *compiler) checkCall(n *dsl.Node) {
	if n.Function == "" {
		return // reported by the parser
	}
	f, ok := c.funcs[n.Function]
	if !ok {
		c.errorf(firstPos(n.FunctionPos, n.Pos), "unknown function %q%s", n.Function, dsl.Hint(n.Function, c.funcNames()))
		return
	}
	args := n.Args
	if _, written := n.FieldPos["args"]; written && args == nil {
		return // refused by the parser
	}
	given := map[string]bool{}
	if args != nil {
		for _, a := range args.Map {
			given[a.Key] = true
			if !slices.Contains(f.Params, a.Key) {
				hint := dsl.Hint(a.Key, f.Params)
				if hint == "" && len(f.Params) > 0 {
					hint = "; its params are " + quoteList(f.Params)
				}
				c.errorf(firstPos(a.KeyPos, args.Pos), "function %q has no param %q%s", f.Name, a.Key, hint)
			}
		}
	}
	for _, p := range f.Params {
		if !given[p] {
			c.errorf(firstPos(n.FieldPos["args"], n.Pos), "call of function %q needs arg %q", f.Name, p)
		}
	}
}

func (c *compiler) funcNames() []string {
	names := make([]string, 0, len(c.funcs))
	for n := range c.funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// checkRecursion finds Calls that can reach their own function again.
// Inlining cannot expand them, so each is an error at the Call.
func (c *compiler) checkRecursion() {
	c.recursive = map[*dsl.Node]bool{}
	calls := map[string][]*dsl.Node{} // function → Call nodes in its body
	for name, f := range c.funcs {
		walkNodes(f.Nodes, func(n *dsl.Node) {
			if n.Kind == "Call" {
				if _, ok := c.funcs[n.Function]; ok {
					calls[name] = append(calls[name], n)
				}
			}
		})
	}
	// path returns a chain of calls from one function to another, or nil.
	path := func(from, to string) []string {
		prev := map[string]string{from: ""}
		queue := []string{from}
		for len(queue) > 0 {
			f := queue[0]
			queue = queue[1:]
			if f == to {
				var out []string
				for x := to; x != ""; x = prev[x] {
					out = append([]string{x}, out...)
					if x == from {
						break
					}
				}
				return out
			}
			for _, call := range calls[f] {
				if _, seen := prev[call.Function]; !seen {
					prev[call.Function] = f
					queue = append(queue, call.Function)
				}
			}
		}
		return nil
	}
	for _, name := range c.funcNames() {
		for _, call := range calls[name] {
			p := path(call.Function, name)
			if p == nil {
				continue
			}
			c.recursive[call] = true
			chain := append([]string{name}, p...)
			if len(chain) == 2 && chain[0] == chain[1] {
				c.errorf(firstPos(call.FunctionPos, call.Pos), "function %q calls itself; recursion cannot be inlined", name)
			} else {
				c.errorf(firstPos(call.FunctionPos, call.Pos), "recursive call: %s; recursion cannot be inlined", strings.Join(chain, " → "))
			}
		}
	}
}

// walkNodes calls f on every node of a sequence and of everything nested in
// it, catch blocks included.
func walkNodes(nodes []*dsl.Node, f func(*dsl.Node)) {
	for _, n := range nodes {
		if n == nil {
			continue
		}
		f(n)
		walkNodes(n.Catch, f)
		for _, b := range n.Branches {
			walkNodes(b, f)
		}
		walkNodes(n.Then, f)
		walkNodes(n.Else, f)
		walkNodes(n.Body, f)
		for _, cs := range n.Cases {
			if cs != nil {
				walkNodes(cs.Nodes, f)
			}
		}
		walkNodes(n.Default, f)
		walkNodes(n.Graph, f)
	}
}
