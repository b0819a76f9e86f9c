package compiler

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/dsl"
	skexpr "github.com/skript-dev/skript/expr"
)

// This file compiles every expression of the inlined tree and binds the
// names it reads. Two kinds of names:
//
//   - variables (input, run, params, error, item, index, iteration, a
//     loop's `as` name), bound through the lexical chain of loops, catch
//     blocks and function instances around the expression;
//   - node records, `nodes.X`, accepted only where X has certainly
//     finished on every path to the expression.
//
// "Certainly finished" is a forward must-analysis over the structure, but
// it needs no sets. A node X is finished after the element of its sequence
// it is, and that fact climbs to the enclosing element only through a
// Parallel branch (all branches finish before the Parallel does) or a Call
// body (the body finishes before the Call does). If/Switch arms, loop
// bodies and catch blocks stop it: an arm may not run, a body's nodes are
// per iteration, and a catch block runs only on failure. (The "intersection
// over every arm" of the textbook analysis is always empty here, since
// arms never share nodes.) So X is finished at point P exactly when P lies
// after some element of X's climbing chain within that element's sequence,
// which preorder intervals answer in O(1) per chain link: a sequence's later
// elements occupy (e.out, e.seqEnd]. The chain is as long as the nesting of
// Parallels and Calls, so the analysis is linear in practice.

// lexKind is the kind of a lexical frame.
type lexKind uint8

const (
	lexFunc  lexKind = iota // a function body: params; hides outer frames
	lexEach                 // a for_each body: item, index and the `as` name
	lexWhile                // a while loop's condition and body: iteration
	lexCatch                // a catch block: error
	lexRetry                // a retry condition: error and attempt
)

// lex is one frame of the lexical chain, innermost first.
type lex struct {
	kind lexKind
	node *inode // the Call, Loop or failed Action
	name string // the `as` name of a for_each loop
	up   *lex
}

// endPos is the preorder position of the workflow's `output:`, after every
// node of the top-level sequence.
const endPos = math.MaxInt32 - 1

func (c *compiler) refs() {
	if d := c.wf.Defaults; d != nil {
		c.checkRetryTypes(d.Retry)
	}
	c.exprSeq(c.top, nil)
	c.exprSeq(c.fin, nil)
	for _, ph := range c.phantom {
		call := ph[0]
		c.exprSeq(call.body, &lex{kind: lexFunc, node: call})
	}
	if out := c.wf.Output; out != nil {
		src, errs := c.tr.Value(out)
		*c.errs = append(*c.errs, errs...)
		c.bp.Output = c.bind(src, nil, nil, c.scopes[0])
	}
}

func (c *compiler) exprSeq(seq []*inode, env *lex) {
	for _, x := range seq {
		c.exprNode(x, env)
	}
}

func (c *compiler) exprNode(x *inode, env *lex) {
	n := x.n
	switch n.Kind {
	case "Action":
		if p := n.Params; p != nil && p.Kind == dsl.Map && len(p.Map) > 0 {
			var src *skexpr.Source
			x.params, src = c.valueSource(p, x, env)
			if !c.checkConstParams(x) && src != nil {
				c.checkParamTypes(x, src)
			}
		}
		c.retryExpr(x, env)
		c.exprSeq(x.catch, &lex{kind: lexCatch, node: x, up: env})
	case "Parallel":
		for _, b := range x.branches {
			c.exprSeq(b, env)
		}
		c.exprSeq(x.catch, &lex{kind: lexCatch, node: x, up: env})
	case "If":
		x.cond = c.bare(n.Condition, "condition", x, env)
		c.exprSeq(x.then, env)
		c.exprSeq(x.els, env)
	case "Loop":
		if sequential(n) {
			// The condition runs inside the loop's frame, at the head of
			// an iteration: iteration is in scope there too, and the
			// body's nodes are those of the iteration before.
			inner := &lex{kind: lexWhile, node: x, up: env}
			if n.While != nil {
				c.look = &look{prev: x}
				x.cond = c.bare(n.While, "while", x, inner)
			} else {
				c.look = &look{prev: x, prevIter: true}
				x.cond = c.bare(n.LoopUntil, "loop until", x, inner)
			}
			c.look = nil
			c.exprSeq(x.body, inner)
			for _, b := range x.body {
				if b.n.BreakIf != nil {
					c.look = &look{pos: b.breakPos}
					b.brk = c.bare(b.n.BreakIf, "break_if", b, inner)
					c.look = nil
				}
			}
			break
		}
		if n.ForEach != nil && n.ForEach.Kind == dsl.List {
			x.cond = c.value(n.ForEach, x, env) // a literal list
		} else {
			x.cond = c.bare(n.ForEach, "for_each", x, env)
		}
		c.exprSeq(x.body, &lex{kind: lexEach, node: x, name: loopVar(n), up: env})
		c.exprSeq(x.catch, &lex{kind: lexCatch, node: x, up: env})
	case "Switch":
		for i, cs := range n.Cases {
			var when *dsl.Value
			if cs != nil {
				when = cs.When
			}
			x.whens = append(x.whens, c.bare(when, "when", x, env))
			c.exprSeq(x.cases[i], env)
		}
		c.exprSeq(x.dflt, env)
	case "Call":
		if a := n.Args; a != nil && a.Kind == dsl.Map && len(a.Map) > 0 {
			x.args = c.value(a, x, env)
		}
		// A function body sees its params, not the caller's loops or catch.
		c.exprSeq(x.body, &lex{kind: lexFunc, node: x})
	case "Wait":
		c.waitExpr(x, env)
	case "Graph":
		if inTrap(x) && x.idx >= 0 {
			c.errorf(x.n.Pos, "a Graph inside a Parallel or Loop with fail_fast: false, or inside a race (mode: first), is not supported: a failure there would leave the nodes after it waiting; use trigger rules inside the Graph instead")
		}
		c.exprSeq(x.graph, env)
	}
}

// value compiles a params/args-style value (templates allowed).
func (c *compiler) value(v *dsl.Value, at *inode, env *lex) int32 {
	i, _ := c.valueSource(v, at, env)
	return i
}

// typedValue is value that also returns the static type of a value that
// is one whole template ("" when unknown, see skexpr.Source.TypeName).
func (c *compiler) typedValue(v *dsl.Value, at *inode, env *lex) (int32, string) {
	i, src := c.valueSource(v, at, env)
	if src == nil {
		return i, ""
	}
	return i, src.TypeName()
}

// valueSource is value that also returns the translated source, or nil
// when the value or a name it reads was refused.
func (c *compiler) valueSource(v *dsl.Value, at *inode, env *lex) (int32, *skexpr.Source) {
	src, errs := c.tr.Value(v)
	*c.errs = append(*c.errs, errs...)
	// Bind even a broken source: the names in its other templates may
	// hold more mistakes worth reporting in the same round.
	before := len(*c.errs)
	i := c.bind(src, at, env, at.scope)
	if len(errs) > 0 || len(*c.errs) > before {
		return -1, nil
	}
	return i, src
}

// bare compiles a field holding a bare expression, and refuses one whose
// value or static type the run could only fail on.
func (c *compiler) bare(v *dsl.Value, field string, at *inode, env *lex) int32 {
	before := len(*c.errs)
	i, typ := c.typedBare(v, field, at, env)
	if len(*c.errs) == before && !c.checkConstBare(v, field, i) {
		c.checkBareType(v, field, typ)
	}
	return i
}

// typedBare compiles a field holding a bare expression and returns it
// with its static type ("" when unknown), checking neither.
func (c *compiler) typedBare(v *dsl.Value, field string, at *inode, env *lex) (int32, string) {
	if v == nil {
		return -1, "" // missing or refused: reported by the parser
	}
	src, errs := c.tr.Bare(v, fieldName(field))
	*c.errs = append(*c.errs, errs...)
	i := c.bind(src, at, env, at.scope)
	if len(errs) > 0 {
		return -1, ""
	}
	return i, src.TypeName()
}

// checkConstBare refuses a condition the compiler can evaluate to something
// other than a boolean, or a for_each to something other than a list: the
// run could only fail there, and the optimizer must not guess. It reports
// whether the expression folded to a constant.
func (c *compiler) checkConstBare(v *dsl.Value, field string, i int32) bool {
	val, ok := c.constExpr(i)
	if !ok {
		return false
	}
	shown := skexpr.Format(val)
	if s, isString := val.(string); isString {
		shown = strconv.Quote(s)
	}
	switch field {
	case "condition", "while", "when", "loop until", "break_if":
		if _, isBool := val.(bool); !isBool {
			c.errs.Add(c.file, v.Pos, "%s is always %s, not true or false", fieldName(field), shown)
		}
	case "for_each":
		if _, isList := val.([]any); !isList && val != nil {
			c.errs.Add(c.file, v.Pos, "for_each is always %s, not a list", shown)
		}
	}
	return true
}

// fieldName is how messages name a bare field: a Loop's until is keyed
// apart from a Wait's, which takes a time.
func fieldName(field string) string { return strings.TrimPrefix(field, "loop ") }

// bind resolves a source's names and adds it to the expression table
// (except in phantom trees, which emit nothing). at is nil for `output:`.
func (c *compiler) bind(src *skexpr.Source, at *inode, env *lex, fs *fscope) int32 {
	sc := &scope{c: c, at: at, env: env, fs: fs}
	if c.look != nil {
		sc.look, c.look = *c.look, nil
	}
	e, errs := src.Bind(sc)
	*c.errs = append(*c.errs, errs...)
	if len(errs) > 0 || (at != nil && at.idx < 0) {
		return -1
	}
	c.bp.Exprs = append(c.bp.Exprs, e)
	return int32(len(c.bp.Exprs) - 1)
}

// constExpr returns the folded value of expression i, if it folded.
func (c *compiler) constExpr(i int32) (any, bool) {
	if i < 0 || int(i) >= len(c.bp.Exprs) || !c.bp.Exprs[i].Const {
		return nil, false
	}
	return c.bp.Exprs[i].Value, true
}

// checkConstParams checks templated params that folded to constants
// against the schema, as literal ones were in check.go. It reports whether
// the params folded.
func (c *compiler) checkConstParams(x *inode) bool {
	v, ok := c.constExpr(x.params)
	if !ok {
		return false
	}
	m, _ := v.(map[string]any)
	a, ok := c.reg.Lookup(x.n.Action)
	if !ok || m == nil {
		return true
	}
	for _, f := range x.n.Params.Map {
		if !hasTemplate(f.Value) {
			continue // checked as a literal
		}
		if fd, ok := a.Schema.Field(f.Key); ok {
			c.checkParam(a, f.Key, fd, f.Value, m[f.Key], true)
		}
	}
	return true
}

// waitExpr compiles a Wait's duration or deadline. A literal duration
// becomes a constant; a string that is not one is read as a bare
// expression (`duration: input.delay`); so is a deadline that is not an
// RFC 3339 time.
func (c *compiler) waitExpr(x *inode, env *lex) {
	n := x.n
	v, field := n.Duration, "duration"
	if v == nil {
		v, field = n.Until, "until"
	}
	if v == nil {
		return // missing or refused: reported by the parser
	}
	typ := ""
	before := len(*c.errs)
	if field == "duration" {
		switch {
		case v.Kind != dsl.String:
			c.errorf(v.Pos, `duration must be a string such as "30s", not %s%s`, article(v.Kind), dsl.UnitHint(v.Go()))
			return
		case strings.Contains(v.Str, "${{"):
			x.wait, typ = c.typedValue(v, x, env)
		default:
			if d, err := time.ParseDuration(strings.TrimSpace(v.Str)); err == nil {
				if d < 0 {
					c.errorf(v.Pos, "duration must not be negative")
					return
				}
				if x.idx >= 0 {
					x.wait = c.addExpr(constExpr(blueprint.Pos{Line: v.Pos.Line, Col: v.Pos.Col}, v.Str))
				}
				return
			}
			if h := dsl.UnitHint(v.Str); h != "" {
				c.errorf(v.Pos, "invalid duration %q%s", v.Str, h)
				return
			}
			x.wait, typ = c.typedBare(v, field, x, env)
			if len(*c.errs) > before {
				// The expression reading is a guess; say what was meant.
				*c.errs = (*c.errs)[:before]
				c.errorf(v.Pos, `invalid duration %q: want a duration such as "30s" or "1m30s", or an expression`, v.Str)
				return
			}
		}
	} else {
		// An RFC 3339 time written as it is (`until: 2030-01-02T15:04:05Z`,
		// quoted or not) is the deadline itself, not an expression: read
		// as one it would be a subtraction of numbers.
		if v.Kind == dsl.String && !strings.Contains(v.Str, "${{") {
			if _, err := time.Parse(time.RFC3339, strings.TrimSpace(v.Str)); err == nil {
				if x.idx >= 0 {
					x.wait = c.addExpr(constExpr(blueprint.Pos{Line: v.Pos.Line, Col: v.Pos.Col}, strings.TrimSpace(v.Str)))
				}
				return
			}
			if looksLikeDate(v.Str) {
				c.errorf(v.Pos, "until must be an RFC 3339 time with a time of day and a zone, such as 2030-01-02T15:04:05Z, not %q", v.Str)
				return
			}
		}
		x.wait, typ = c.typedBare(v, field, x, env)
	}
	if len(*c.errs) > before {
		return
	}
	if val, ok := c.constExpr(x.wait); ok {
		s, isStr := val.(string)
		switch {
		case !isStr:
			hint := ""
			if field == "duration" {
				hint = dsl.UnitHint(val)
			}
			c.errorf(v.Pos, "%s must be a string, not %s%s", field, skexpr.Format(val), hint)
		case field == "duration":
			if d, err := time.ParseDuration(strings.TrimSpace(s)); err != nil || d < 0 {
				c.errorf(v.Pos, "invalid duration %q", s)
			}
		default:
			if _, err := time.Parse(time.RFC3339, strings.TrimSpace(s)); err != nil {
				c.errorf(v.Pos, "until must be an RFC 3339 time such as 2030-01-02T15:04:05Z, not %q", s)
			}
		}
		return
	}
	c.checkBareType(v, field, typ)
}

// looksLikeDate says whether s starts like a calendar date (2030-01-02),
// which as an expression would be a subtraction of numbers.
func looksLikeDate(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// scope resolves the names of one expression; it implements skexpr.Scope.
type scope struct {
	c   *compiler
	at  *inode // the node whose expression this is; nil for `output:`
	env *lex
	fs  *fscope
	look
}

// look says from where an expression sees node records, when that is not
// the position of its node: a break_if right after its node (pos), a
// loop's condition at the head of an iteration, which reads the body's
// records of the iteration before (prev; with prevIter, `iteration` is
// that iteration's too).
type look struct {
	pos      int32
	prev     *inode
	prevIter bool
}

// point is the preorder position the expression is evaluated at.
func (s *scope) point() int32 {
	switch {
	case s.pos > 0:
		return s.pos
	case s.at != nil:
		return s.at.in
	}
	return endPos
}

// frame returns the innermost frame of a kind (and, for lexEach with a
// name, binding that name), not looking past a function boundary.
func (s *scope) frame(kind lexKind, name string) *lex {
	for l := s.env; l != nil; l = l.up {
		if l.kind == kind && (name == "" || l.name == name) {
			return l
		}
		if l.kind == lexFunc {
			return nil
		}
	}
	return nil
}

// Var binds a free identifier.
func (s *scope) Var(u *skexpr.Use) (blueprint.Var, *skexpr.Problem) {
	switch u.Name {
	case "input":
		if s.c.inputs != nil && len(u.Path) > 0 && !s.c.inputs[u.Path[0]] {
			return blueprint.Var{}, &skexpr.Problem{Pos: u.PathPos(0),
				Msg: fmt.Sprintf("unknown input %q%s", u.Path[0], dsl.Hint(u.Path[0], slices.Sorted(maps.Keys(s.c.inputs))))}
		}
		return blueprint.Var{Name: "input", Kind: blueprint.VarInput, Node: -1}, nil
	case "run":
		if len(u.Path) > 0 && u.Path[0] != "id" && u.Path[0] != "workflow" {
			fin := inFinally(s.at)
			switch {
			case fin && (u.Path[0] == "status" || u.Path[0] == "error"):
			case fin:
				return blueprint.Var{}, &skexpr.Problem{Pos: u.PathPos(0),
					Msg: fmt.Sprintf("run has no field %q%s; it has id, workflow, status and error", u.Path[0],
						dsl.Hint(u.Path[0], []string{"id", "workflow", "status", "error"}))}
			case u.Path[0] == "status" || u.Path[0] == "error":
				return blueprint.Var{}, &skexpr.Problem{Pos: u.PathPos(0),
					Msg: fmt.Sprintf("run.%s is only known in the workflow's finally nodes, which run once the run has come to its end", u.Path[0])}
			default:
				return blueprint.Var{}, &skexpr.Problem{Pos: u.PathPos(0),
					Msg: fmt.Sprintf("run has no field %q; it has id and workflow", u.Path[0])}
			}
		}
		return blueprint.Var{Name: "run", Kind: blueprint.VarRun, Node: -1}, nil
	case "params":
		f := s.frame(lexFunc, "")
		if f == nil {
			return blueprint.Var{}, &skexpr.Problem{Msg: "params is only available inside a function"}
		}
		fn := f.node.inner.fn
		if fn != nil && len(u.Path) > 0 && !slices.Contains(fn.Params, u.Path[0]) {
			return blueprint.Var{}, &skexpr.Problem{Pos: u.PathPos(0),
				Msg: fmt.Sprintf("function %q has no param %q%s", fn.Name, u.Path[0], dsl.Hint(u.Path[0], fn.Params))}
		}
		return blueprint.Var{Name: "params", Kind: blueprint.VarParams, Node: f.node.idx}, nil
	case "attempt":
		if f := s.frame(lexRetry, ""); f != nil {
			return blueprint.Var{Name: "attempt", Kind: blueprint.VarAttempt, Node: f.node.idx}, nil
		}
		return blueprint.Var{}, &skexpr.Problem{Msg: "attempt is only available in a retry condition (retry.when)"}
	case "error":
		f := s.frame(lexRetry, "")
		if f == nil {
			f = s.frame(lexCatch, "")
		}
		if f != nil {
			if len(u.Path) > 0 && !slices.Contains(errorFields, u.Path[0]) {
				hint := dsl.Hint(u.Path[0], errorFields)
				if hint == "" {
					hint = "; it has " + strings.Join(errorFields, ", ") + " (a host action's own data is under error.data)"
				}
				return blueprint.Var{}, &skexpr.Problem{Pos: u.PathPos(0), Msg: fmt.Sprintf("error has no field %q%s", u.Path[0], hint)}
			}
			return blueprint.Var{Name: "error", Kind: blueprint.VarError, Node: f.node.idx}, nil
		}
		return blueprint.Var{}, &skexpr.Problem{Msg: "error is only available in a catch block"}
	case "item", "index":
		if f := s.frame(lexEach, ""); f != nil {
			k := blueprint.VarItem
			if u.Name == "index" {
				k = blueprint.VarIndex
			}
			return blueprint.Var{Name: u.Name, Kind: k, Node: f.node.idx}, nil
		}
		msg := u.Name + " is only available in the body of a for_each loop"
		if s.frame(lexWhile, "") != nil {
			msg += "; a while loop counts with iteration"
		}
		return blueprint.Var{}, &skexpr.Problem{Msg: msg}
	case "iteration":
		if f := s.frame(lexWhile, ""); f != nil {
			return blueprint.Var{Name: "iteration", Kind: blueprint.VarIteration, Node: f.node.idx, Prev: s.prevIter && f.node == s.prev}, nil
		}
		msg := "iteration is only available in a while or until loop"
		if s.frame(lexEach, "") != nil {
			msg += "; a for_each loop counts with index"
		}
		return blueprint.Var{}, &skexpr.Problem{Msg: msg}
	case "previous":
		if f := s.frame(lexWhile, ""); f != nil {
			return blueprint.Var{Name: "previous", Kind: blueprint.VarPrevious, Node: f.node.idx}, nil
		}
		msg := "previous is only available in a while or until loop"
		if s.frame(lexEach, "") != nil {
			msg += "; for_each iterations may run at once, so none comes before another"
		}
		return blueprint.Var{}, &skexpr.Problem{Msg: msg}
	}
	if f := s.frame(lexEach, u.Name); f != nil {
		return blueprint.Var{Name: u.Name, Kind: blueprint.VarItem, Node: f.node.idx}, nil
	}
	return blueprint.Var{}, &skexpr.Problem{Msg: fmt.Sprintf("unknown name %q%s", u.Name, dsl.Hint(u.Name, s.names()))}
}

// errorFields are the fields of `error` in a catch block (see the
// runtime's errorView): a host action's own data is under error.data.
var errorFields = []string{"type", "message", "node", "data", "status", "body", "exit_code", "stdout", "stderr", "failures"}

// names lists the names in scope, for hints.
func (s *scope) names() []string {
	out := []string{"input", "run", "nodes"}
	for l := s.env; l != nil; l = l.up {
		switch l.kind {
		case lexFunc:
			return append(out, "params")
		case lexEach:
			out = append(out, "item", "index", l.name)
		case lexWhile:
			out = append(out, "iteration", "previous")
		case lexCatch:
			out = append(out, "error")
		case lexRetry:
			out = append(out, "error", "attempt")
		}
	}
	return out
}

// Node binds `nodes.PATH`.
func (s *scope) Node(u *skexpr.Use) (blueprint.Ref, int, *skexpr.Problem) {
	c := s.c
	name, n := u.Path[0], 1
	x := c.byID[s.fs.prefix+name]
	// A node inlined from a Call is named CALLID.INNERID: take the longest
	// such id, but never swallow the record's own fields.
	for x != nil && n < len(u.Path) && !isRecordField(u.Path[n]) {
		y := c.byID[s.fs.prefix+name+"."+u.Path[n]]
		if y == nil {
			break
		}
		x, name, n = y, name+"."+u.Path[n], n+1
	}
	if x == nil {
		hint := dsl.Hint(name, s.fs.locals)
		if hint == "" {
			hint = s.innerHint(name)
		}
		msg := fmt.Sprintf("unknown node %q in nodes.%s%s", name, name, hint)
		if s.fs.prefix != "" && c.byID[name] != nil {
			msg += "; inside a function, nodes names only the function's own nodes: pass the value as an arg"
		}
		return blueprint.Ref{}, 0, &skexpr.Problem{Pos: u.PathPos(0), Msg: msg}
	}
	if n < len(u.Path) && !isRecordField(u.Path[n]) {
		f := u.Path[n]
		hint := dsl.Hint(f, recordFields)
		if f == "error" {
			// on_error: continue records the failure as the output, so
			// this is where a reader who wants the error should look.
			hint = fmt.Sprintf("; did you mean nodes.%s.output.error? after on_error: continue the error is the node's output", name)
		}
		if hint == "" {
			hint = "; a node record has output and status"
		}
		return blueprint.Ref{}, 0, &skexpr.Problem{Pos: u.PathPos(n), Msg: fmt.Sprintf("nodes.%s has no field %q%s", name, f, hint)}
	}
	if p := s.prev; p != nil && p.in < x.in && x.in <= p.out {
		if !finishedAt(x, p.bodyEnd) {
			return blueprint.Ref{}, 0, &skexpr.Problem{Msg: fmt.Sprintf(
				"nodes.%s is not certainly finished at the end of an iteration of Loop %q, where its condition looks back", name, s.local(p))}
		}
		return blueprint.Ref{Name: name, Node: x.idx, Prev: true}, n, nil
	}
	if !finishedAt(x, s.point()) {
		return blueprint.Ref{}, 0, &skexpr.Problem{Msg: s.whyNot(x, "nodes."+name)}
	}
	return blueprint.Ref{Name: name, Node: x.idx}, n, nil
}

// innerHint suggests the full name of a node inlined from a Call when the
// user wrote its local id from outside the function.
func (s *scope) innerHint(name string) string {
	var found []string
	for id := range s.c.byID {
		rest, ok := strings.CutPrefix(id, s.fs.prefix)
		if ok && strings.HasSuffix(rest, "."+name) {
			found = append(found, rest)
		}
	}
	if len(found) == 0 {
		return ""
	}
	sort.Strings(found)
	return fmt.Sprintf("; did you mean %q? A function's nodes are named CALLID.ID outside it", found[0])
}

var recordFields = []string{"output", "status"}

// inFinally reports whether x is one of the workflow's finally nodes or
// inside one.
func inFinally(x *inode) bool {
	for ; x != nil; x = x.parent {
		if x.parent == nil {
			return x.arm == armFinally
		}
	}
	return false
}

func isRecordField(s string) bool { return s == "output" || s == "status" }

// finishedAt reports whether x has certainly finished at preorder
// position p.
func finishedAt(x *inode, p int32) bool {
	for e := x; e != nil; e = e.parent {
		if e.out < p && p <= e.seqEnd {
			return true
		}
		if e.arm == armGraph {
			// Inside the Graph, only what a node depends on (through
			// others too) has finished before it; outside, the whole
			// Graph has, as after a Parallel.
			if g := e.parent; g.in < p && p <= g.out {
				y := g.graphElem(p)
				return y != nil && g.reaches(int32(y.armIdx), int32(e.armIdx))
			}
			continue
		}
		if e.arm != armBranch && e.arm != armCall {
			return false
		}
	}
	return false
}

// whyNot explains why x has not certainly finished at s.at.
func (s *scope) whyNot(x *inode, ref string) string {
	at := s.at
	if inFinally(at) && !inFinally(x) {
		return ref + " is not certainly finished here: the finally nodes run however the workflow's nodes ended, " +
			"some may not have run; read run.status and run.error"
	}
	p := int32(endPos)
	if at != nil {
		p = at.in
		switch {
		case x == at:
			return ref + " is the node this expression belongs to; it has no record yet"
		case x.in <= at.in && at.in <= x.out:
			return fmt.Sprintf("%s is not finished here: this expression is part of %s %q", ref, x.n.Kind, s.local(x))
		case at.in < x.in && x.in <= at.out:
			return ref + " runs after this point"
		}
	}
	const uncertain = "%s is not certainly finished here: %s"
	for e := x; ; {
		par := e.parent
		if par == nil {
			return ref + " runs after this point"
		}
		if e.arm == armGraph {
			if at != nil && par.in < p && p <= par.out {
				y := par.graphElem(p)
				if y == nil || y == e {
					return ref + " runs after this point"
				}
				return fmt.Sprintf("%s is not certainly finished here: %q does not depend on %q in Graph %q; add %q to its depends",
					ref, y.n.ID, e.n.ID, s.local(par), e.n.ID)
			}
			e = par
			continue
		}
		if at != nil && par.in < p && p <= par.out {
			// The expression is inside the same composite.
			if e.seqStart <= p && p <= e.seqEnd {
				return ref + " runs after this point"
			}
			return fmt.Sprintf(uncertain, ref, s.armReason(par, e))
		}
		switch e.arm {
		case armBranch, armCall:
			e = par
			continue
		case armBody:
			return fmt.Sprintf("%s is not visible outside Loop %q: use nodes.%s.output, the list of its iterations' outputs", ref, s.local(par), s.local(par))
		}
		return fmt.Sprintf(uncertain, ref, s.armReason(par, e))
	}
}

// armReason describes the part of par that e sits in.
func (s *scope) armReason(par, e *inode) string {
	name := s.local(par)
	switch e.arm {
	case armThen:
		return fmt.Sprintf("it runs only in the \"then\" branch of If %q", name)
	case armElse:
		return fmt.Sprintf("it runs only in the \"else\" branch of If %q", name)
	case armBranch:
		return fmt.Sprintf("it runs in another branch of Parallel %q", name)
	case armCase:
		return fmt.Sprintf("it runs only in case %d of Switch %q", e.armIdx+1, name)
	case armDefault:
		return fmt.Sprintf("it runs only in the default of Switch %q", name)
	case armCatch:
		return fmt.Sprintf("it runs only in the catch block of %q, when that node fails", name)
	}
	return fmt.Sprintf("it runs inside %s %q", par.n.Kind, name)
}

// local names a node as the expression's scope sees it.
func (s *scope) local(x *inode) string {
	return strings.TrimPrefix(x.id, s.fs.prefix)
}
