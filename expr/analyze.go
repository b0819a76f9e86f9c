package expr

import (
	"errors"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"
)

// useKind tells what a name read by an expression is.
type useKind uint8

const (
	useIdent useKind = iota // a free identifier: input, item, params...
	useNodes                // `nodes` followed by a node id
	useCall                 // a call of a function that is not a builtin
)

// elem is one literal member access after a name: `.x` or `["x"]`.
type elem struct {
	name     string
	from, to int  // rune offsets of the property in the expression
	dot      bool // written as `.x` (rewritable in place)
}

// rawUse is a name read by one expression text, offsets relative to it.
type rawUse struct {
	kind  useKind
	name  string
	from  int // rune offset of the name
	to    int
	path  []elem   // literal members directly following the name
	names []string // the names of path, shared by every Use of this text
	// bad marks `nodes` used bare or with a computed index.
	bad bool
	// hyphen, on `nodes.my-step`, is the id as written ("my-step"), which
	// expr-lang reads as nodes.my minus step; minus marks the `step`.
	hyphen string
	minus  bool
}

// parsed is what the compiler learns from one expression text; it is
// cached by text since function bodies and generated workflows repeat
// expressions.
type parsed struct {
	err    string // syntax error message, "" when it parses
	errAt  int    // rune offset of the syntax error
	uses   []rawUse
	impure bool // calls now(): never folded
	// heavy marks what may cost unbounded time or memory to evaluate
	// (loops over ranges or lists, `let` chains that double a string,
	// repeat): the compiler leaves it to the run rather than risk its own
	// time on folding it.
	heavy bool
	// typ is the expression's static type, nil when the checker cannot
	// tell (it reads a node's output, an item, an untyped input...).
	typ reflect.Type
	// letInput marks a `let input = ...`: the expression shadows the run's
	// inputs, so their declared types do not apply.
	letInput bool
	// mistakes are comparisons that can never hold as meant: a node's
	// status against a string no status is.
	mistakes []mistake
}

// mistake is a problem found in a valid expression, at a rune offset.
type mistake struct {
	at  int
	msg string
}

// builtinNames are the functions every expression may call, for hints.
var builtinNames = func() []string {
	var out []string
	for _, f := range builtin.Builtins {
		out = append(out, f.Name)
	}
	sort.Strings(out)
	return out
}()

// impureBuiltins give a different result on every call.
var impureBuiltins = map[string]bool{"now": true}

// newConfig returns a checker configuration with the helpers registered.
// Without an environment, the checker finds the mistakes that need no
// types of the run's data: wrong builtin arity, `1 + "a"`, and the like.
func newConfig() *conf.Config {
	c := conf.CreateNew()
	for _, op := range options {
		op(c)
	}
	return c
}

// inputTypes are the checker's types for the DSL's input types. A number
// may be an int or a float64 at run time; it is checked as an int, which
// the checker accepts wherever it accepts a float64 and also for `%`,
// ranges and list indexes, so no expression that can work is refused.
var inputTypes = map[string]types.Type{
	"string":  types.String,
	"integer": types.Int,
	"number":  types.Int,
	"boolean": types.Bool,
	"list":    types.TypeOf([]any{}),
	"map":     types.TypeOf(map[string]any{}),
}

// newTypedConfig returns a checker configuration that knows the declared
// types of the inputs (name → DSL type), or nil when none is declared.
// Every other name, and every input without a type, stays unknown (any):
// the environment is not strict, so the checker accepts names it does not
// know, and the compiler's scope reports those it must refuse.
func newTypedConfig(inputs map[string]string) *conf.Config {
	in := types.Map{types.Extra: types.Any}
	typed := false
	for name, typ := range inputs {
		if t, ok := inputTypes[typ]; ok {
			in[name] = t
			typed = true
		}
	}
	if !typed {
		return nil
	}
	c := newConfig()
	c.WithEnv(types.Map{"input": in, types.Extra: types.Any})
	return c
}

// analyze parses and type-checks one expression text and collects the
// names it reads. typed, when not nil, is the configuration that knows the
// inputs' declared types (see newTypedConfig).
func analyze(text string, c, typed *conf.Config) *parsed {
	if p, ok := simpleChain(text); ok && (typed == nil || p.uses[0].name != "input") {
		return p
	}
	tree, err := parser.ParseWithConfig(text, c)
	var typ reflect.Type
	if err == nil {
		typ, err = checker.Check(tree, c)
	}
	if err != nil {
		return failed(err)
	}
	w := &walker{p: &parsed{}}
	w.walk(tree.Node)
	markHyphens(text, w.p.uses)
	for i := range w.p.uses {
		u := &w.p.uses[i]
		u.names = pathNames(u.path)
	}
	if typed != nil && w.readsInput() && !w.p.letInput {
		// Checked a second time, now with the inputs' types: the first
		// check found the names and the mistakes that need no types.
		tree, err := parser.ParseWithConfig(text, typed)
		if err == nil {
			typ, err = checker.Check(tree, typed)
		}
		if err != nil {
			return failed(err)
		}
	}
	w.p.typ = known(typ)
	return w.p
}

// failed is the analysis of an expression the parser or checker refused.
func failed(err error) *parsed {
	p := &parsed{err: err.Error()}
	var fe *file.Error
	if errors.As(err, &fe) {
		p.err, p.errAt = fe.Message, fe.From
	}
	// Some checker messages end in a space.
	p.err = strings.TrimSpace(p.err)
	return p
}

// known returns t, or nil when it says nothing (any).
func known(t reflect.Type) reflect.Type {
	if t == nil || t.Kind() == reflect.Interface {
		return nil
	}
	return t
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	timeType     = reflect.TypeOf(time.Time{})
)

// typeName names a static type in the DSL's words: "boolean", "number",
// "string", "list", "map", "time", "duration"; "" when it is none of them
// or unknown.
func typeName(t reflect.Type) string {
	if t == nil {
		return ""
	}
	switch t {
	case durationType:
		return "duration"
	case timeType:
		return "time"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map:
		return "map"
	}
	return ""
}

func pathNames(path []elem) []string {
	if len(path) == 0 {
		return nil
	}
	out := make([]string, len(path))
	for i, e := range path {
		out[i] = e.name
	}
	return out
}

type walker struct {
	p     *parsed
	bound []string // `let` names in scope, innermost last
}

// readsInput reports whether the expression reads the run's inputs.
func (w *walker) readsInput() bool {
	for _, u := range w.p.uses {
		if u.kind == useIdent && u.name == "input" {
			return true
		}
	}
	return false
}

func (w *walker) isBound(name string) bool {
	for i := len(w.bound) - 1; i >= 0; i-- {
		if w.bound[i] == name {
			return true
		}
	}
	return false
}

func (w *walker) walk(n ast.Node) {
	switch n := n.(type) {
	case nil:
	case *ast.IdentifierNode:
		w.ident(n, nil)
	case *ast.MemberNode:
		w.member(n)
	case *ast.ChainNode:
		w.walk(n.Node)
	case *ast.UnaryNode:
		w.walk(n.Node)
	case *ast.BinaryNode:
		if n.Operator == ".." {
			w.p.heavy = true
		}
		w.statusCompare(n)
		w.walk(n.Left)
		w.walk(n.Right)
	case *ast.SliceNode:
		w.walk(n.Node)
		w.walk(n.From)
		w.walk(n.To)
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			if id.Value != FormatFunc && !w.isBound(id.Value) {
				loc := id.Location()
				w.p.uses = append(w.p.uses, rawUse{kind: useCall, name: id.Value, from: loc.From, to: loc.To})
			}
		} else {
			w.walk(n.Callee)
		}
		for _, a := range n.Arguments {
			w.walk(a)
		}
	case *ast.BuiltinNode:
		if impureBuiltins[n.Name] {
			w.p.impure = true
		}
		if n.Name == "repeat" {
			w.p.heavy = true
		}
		for _, a := range n.Arguments {
			w.walk(a)
		}
	case *ast.PredicateNode:
		w.p.heavy = true
		w.walk(n.Node)
	case *ast.VariableDeclaratorNode:
		w.p.heavy = true
		w.p.letInput = w.p.letInput || n.Name == "input"
		w.walk(n.Value)
		w.bound = append(w.bound, n.Name)
		w.walk(n.Expr)
		w.bound = w.bound[:len(w.bound)-1]
	case *ast.SequenceNode:
		for _, e := range n.Nodes {
			w.walk(e)
		}
	case *ast.ConditionalNode:
		w.walk(n.Cond)
		w.walk(n.Exp1)
		w.walk(n.Exp2)
	case *ast.ArrayNode:
		for _, e := range n.Nodes {
			w.walk(e)
		}
	case *ast.MapNode:
		for _, e := range n.Pairs {
			w.walk(e)
		}
	case *ast.PairNode:
		w.walk(n.Key)
		w.walk(n.Value)
	}
	// Literals and `#` pointers read no names.
}

// member handles a chain like `nodes.a.b[0]`: the name at its root is
// recorded once, with the literal members that follow it.
func (w *walker) member(m *ast.MemberNode) {
	var chain []*ast.MemberNode // outermost first
	var root ast.Node = m
	for {
		switch r := root.(type) {
		case *ast.MemberNode:
			chain = append(chain, r)
			root = r.Node
			continue
		case *ast.ChainNode:
			root = r.Node
			continue
		}
		break
	}
	id, isIdent := root.(*ast.IdentifierNode)
	literal := true
	var path []elem
	for i := len(chain) - 1; i >= 0; i-- {
		c := chain[i]
		s, ok := c.Property.(*ast.StringNode)
		if literal && ok && !c.Method {
			loc := s.Location()
			path = append(path, elem{name: s.Value, from: loc.From, to: loc.To, dot: c.Location() == loc})
			continue
		}
		literal = false
		w.walk(c.Property)
	}
	if isIdent {
		w.ident(id, path)
	} else {
		w.walk(root)
	}
}

func (w *walker) ident(id *ast.IdentifierNode, path []elem) {
	if w.isBound(id.Value) {
		return
	}
	loc := id.Location()
	u := rawUse{kind: useIdent, name: id.Value, from: loc.From, to: loc.To, path: path}
	if id.Value == "nodes" {
		u.kind = useNodes
		u.bad = len(path) == 0
	}
	w.p.uses = append(w.p.uses, u)
}

// keywords cannot start a member chain: they are literals or operators.
var keywords = map[string]bool{
	"true": true, "false": true, "nil": true, "let": true, "not": true, "and": true, "or": true,
	"in": true, "matches": true, "contains": true, "startsWith": true, "endsWith": true,
	"if": true, "else": true,
}

// simpleChain recognises the most common expression, a plain member chain
// such as `nodes.fetch.output.body` or `item.sku`, without the expr-lang
// parser: it is much of what workflows write, and the parser's cost per
// expression adds up in large generated workflows. Anything else, or any
// non-ASCII text (offsets must stay rune offsets), goes to the parser.
func simpleChain(text string) (*parsed, bool) {
	n := len(text)
	i := 0
	for i < n && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	var segs [][2]int
	for {
		start := i
		if i >= n || !(text[i] == '_' || isLetter(text[i])) {
			return nil, false
		}
		for i < n && (text[i] == '_' || isLetter(text[i]) || text[i] >= '0' && text[i] <= '9') {
			i++
		}
		segs = append(segs, [2]int{start, i})
		if i < n && text[i] == '.' {
			i++
			continue
		}
		break
	}
	for i < n && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	root := text[segs[0][0]:segs[0][1]]
	if i != n || keywords[root] {
		return nil, false
	}
	u := rawUse{kind: useIdent, name: root, from: segs[0][0], to: segs[0][1]}
	for _, g := range segs[1:] {
		u.path = append(u.path, elem{name: text[g[0]:g[1]], from: g[0], to: g[1], dot: true})
	}
	if root == "nodes" {
		u.kind = useNodes
		u.bad = len(u.path) == 0
	}
	u.names = pathNames(u.path)
	return &parsed{uses: []rawUse{u}}, true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
