package expr

import (
	"math"
	"strings"
	"testing"

	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/parser"
	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/dsl"
)

// testScope binds every name in vars and every node in nodes; dotted node
// ids stand for nodes inlined from a Call.
type testScope struct {
	vars  map[string]blueprint.VarKind
	nodes map[string]int32
}

func (s *testScope) Var(u *Use) (blueprint.Var, *Problem) {
	k, ok := s.vars[u.Name]
	if !ok {
		var names []string
		for n := range s.vars {
			names = append(names, n)
		}
		return blueprint.Var{}, &Problem{Msg: "unknown name " + u.Name + dsl.Hint(u.Name, names)}
	}
	return blueprint.Var{Name: u.Name, Kind: k, Node: -1}, nil
}

func (s *testScope) Node(u *Use) (blueprint.Ref, int, *Problem) {
	name := u.Path[0]
	n := 1
	for n < len(u.Path) {
		if _, ok := s.nodes[name+"."+u.Path[n]]; !ok {
			break
		}
		name += "." + u.Path[n]
		n++
	}
	idx, ok := s.nodes[name]
	if !ok {
		return blueprint.Ref{}, 0, &Problem{Msg: "unknown node " + name}
	}
	return blueprint.Ref{Name: name, Node: idx}, n, nil
}

func scope() *testScope {
	return &testScope{
		vars:  map[string]blueprint.VarKind{"input": blueprint.VarInput, "item": blueprint.VarItem, "run": blueprint.VarRun},
		nodes: map[string]int32{"a": 0, "b": 1, "call": 2, "call.inner": 3},
	}
}

// str makes a one-line string value at 3:10, as if written unquoted.
func str(s string) *dsl.Value {
	return &dsl.Value{Kind: dsl.String, Str: s, Pos: dsl.Pos{Line: 3, Col: 10}}
}

func mapOf(kv ...any) *dsl.Value {
	m := &dsl.Value{Kind: dsl.Map, Pos: dsl.Pos{Line: 3, Col: 5}}
	for i := 0; i < len(kv); i += 2 {
		m.Map = append(m.Map, &dsl.Field{Key: kv[i].(string), Value: kv[i+1].(*dsl.Value)})
	}
	return m
}

func compileValue(t *testing.T, v *dsl.Value) blueprint.Expr {
	t.Helper()
	tr := NewTranslator("f.yaml", nil)
	s, errs := tr.Value(v)
	require.Empty(t, errs)
	e, errs := s.Bind(scope())
	require.Empty(t, errs, "%v", errs)
	return e
}

func run(t *testing.T, e blueprint.Expr, env map[string]any) any {
	t.Helper()
	p, err := Compile(e)
	require.NoError(t, err, e.Src)
	v, err := p.Run(env)
	require.NoError(t, err, e.Src)
	return v
}

func TestTemplateTranslation(t *testing.T) {
	v := mapOf(
		"a", str("${{ input.x*2 }}"),
		"b", str("hi ${{ input.y }}!"),
		"c", &dsl.Value{Kind: dsl.List, List: []*dsl.Value{{Kind: dsl.Int, Int: 1}, str("${{ input.z }}")}},
		"d", str("plain"),
	)
	e := compileValue(t, v)
	require.Equal(t, `{"a": ( input.x*2 ), "b": "hi " + __fmt( input.y ) + "!", "c": [1, ( input.z )], "d": "plain"}`, e.Src)
	require.False(t, e.Const)
	require.Equal(t, []blueprint.Var{{Name: "input", Kind: blueprint.VarInput, Node: -1}}, e.Vars)
	got := run(t, e, map[string]any{"input": map[string]any{"x": 21, "y": "ann", "z": []any{true}}})
	require.Equal(t, map[string]any{"a": 42, "b": "hi ann!", "c": []any{1, []any{true}}, "d": "plain"}, got)
}

func TestWholeTemplateKeepsType(t *testing.T) {
	env := map[string]any{"input": map[string]any{"l": []any{1, 2}, "m": map[string]any{"k": 1.5}, "n": nil}}
	for src, want := range map[string]any{
		"${{ input.l }}":       []any{1, 2},
		"${{   input.m\t}}":    map[string]any{"k": 1.5},
		"${{input.n}}":         nil,
		"${{ len(input.l) }}":  2,
		"${{ input.m.k * 2 }}": 3, // whole floats normalise to int
	} {
		require.Equal(t, want, run(t, compileValue(t, str(src)), env), src)
	}
}

// TestTextAroundTemplateIsKept: only a value that is exactly one template
// keeps the expression's type; any text around it, white space included,
// makes the value a string that keeps that text.
func TestTextAroundTemplateIsKept(t *testing.T) {
	env := map[string]any{"input": map[string]any{"l": []any{1, 2}}}
	for _, tc := range []struct {
		src  string
		want any
	}{
		{" ${{ 1 }}", " 1"},
		{"${{ 1 }} ", "1 "},
		{"  ${{ [1,2] }}  ", "  [1,2]  "},
		{"   ${{ 'indented' }}", "   indented"},
		{"\t${{ input.l }}\n", "\t[1,2]\n"},
		{"${{ 1 }}\n", "1\n"}, // a YAML block scalar's final newline is text
		{"${{ input.l }}", []any{1, 2}},
	} {
		require.Equal(t, tc.want, run(t, compileValue(t, str(tc.src)), env), "%q", tc.src)
	}
}

// TestBareFieldAllowsSpaceAroundTemplate: a bare-expression field has no
// text to keep, so a template with white space around it is still the
// expression.
func TestBareFieldAllowsSpaceAroundTemplate(t *testing.T) {
	tr := NewTranslator("f.yaml", nil)
	s, errs := tr.Bare(str("  ${{ input.l }} "), "for_each")
	require.Empty(t, errs)
	e, errs := s.Bind(scope())
	require.Empty(t, errs)
	require.Equal(t, "input.l", strings.TrimSpace(e.Src))
}

func TestConcatenationFormatting(t *testing.T) {
	env := map[string]any{"input": map[string]any{
		"s": "x", "i": 3, "f": 2.5, "w": 4.0, "b": true, "n": nil,
		"l": []any{1, "a"}, "m": map[string]any{"k": "<v>", "a": 1},
	}}
	cases := map[string]string{
		"[${{ input.s }}]":       "[x]",
		"[${{ input.i }}]":       "[3]",
		"[${{ input.f }}]":       "[2.5]",
		"[${{ input.w }}]":       "[4]",
		"[${{ input.b }}]":       "[true]",
		"[${{ input.n }}]":       "[]",
		"[${{ input.l }}]":       `[[1,"a"]]`,
		"[${{ input.m }}]":       `[{"a":1,"k":"<v>"}]`,
		"${{ input.s }}${{ 1 }}": "x1",
		"${{ input.i }} items":   "3 items",
		`say "${{ input.s }}"`:   `say "x"`,
	}
	for src, want := range cases {
		require.Equal(t, want, run(t, compileValue(t, str(src)), env), src)
	}
}

func TestFormat(t *testing.T) {
	require.Equal(t, "1e+21", Format(1e21))
	require.Equal(t, "-3", Format(-3.0))
	require.Equal(t, "0.1", Format(0.1))
	require.Equal(t, `{"u":"a&b"}`, Format(map[string]any{"u": "a&b"}))
}

func TestTemplateBraces(t *testing.T) {
	e := compileValue(t, str("${{ {a: {b: 1}} }}"))
	require.True(t, e.Const)
	require.Equal(t, map[string]any{"a": map[string]any{"b": 1}}, e.Value)
	e = compileValue(t, str(`${{ "}}" + input.s }}`))
	require.Equal(t, "}}x", run(t, e, map[string]any{"input": map[string]any{"s": "x"}}))
}

func TestRefsAndVars(t *testing.T) {
	e := compileValue(t, str("${{ nodes.a.output.v + nodes.b.status + nodes.a.output.w + item.x + input.y }}"))
	require.Equal(t, []blueprint.Ref{{Name: "a", Node: 0}, {Name: "b", Node: 1}}, e.Refs)
	require.Equal(t, []string{"item", "input"}, varNames(e.Vars))
	e = compileValue(t, str(`${{ nodes["a"].output }}`))
	require.Equal(t, []blueprint.Ref{{Name: "a", Node: 0}}, e.Refs)
}

func varNames(vs []blueprint.Var) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Name)
	}
	return out
}

func TestInlinedNodeRewrite(t *testing.T) {
	e := compileValue(t, str("${{ nodes.call.inner.output + nodes.call.output }}"))
	require.Equal(t, `(nodes["call.inner"].output+nodes.call.output)`, strings.Join(strings.Fields(e.Src), ""))
	require.Equal(t, []blueprint.Ref{{Name: "call.inner", Node: 3}, {Name: "call", Node: 2}}, e.Refs)
	got := run(t, e, map[string]any{"nodes": map[string]any{
		"call.inner": map[string]any{"output": 1},
		"call":       map[string]any{"output": 2},
	}})
	require.Equal(t, 3, got)
	e = compileValue(t, str(`${{ nodes["call"]["inner"].output }}`))
	require.Equal(t, `(nodes["call.inner"].output)`, strings.Join(strings.Fields(e.Src), ""))
}

func TestClosuresLetAndBuiltinsNotFlagged(t *testing.T) {
	for _, src := range []string{
		"${{ map(input.l, #.v) }}",
		"${{ filter(input.l, .v > 1) | map(# * 2) }}",
		"${{ let x = input.a; x + 1 }}",
		"${{ sum(map(input.l, #)) + len(input.l) + upper('a') == 'A' ? 1 : 0 }}",
		"${{ reduce(input.l, #acc + #, 0) }}",
	} {
		tr := NewTranslator("f.yaml", nil)
		s, errs := tr.Value(str(src))
		require.Empty(t, errs, src)
		e, errs := s.Bind(scope())
		require.Empty(t, errs, src)
		require.Equal(t, []string{"input"}, varNames(e.Vars), src)
	}
}

// lineSource places s unquoted at line 3, column 10, where str puts it.
func lineSource(s string) []byte { return []byte("\n\n         " + s + "\n") }

func bindErrors(src string, bare bool) string {
	tr := NewTranslator("f.yaml", lineSource(src))
	var s *Source
	var errs dsl.ErrorList
	if bare {
		s, errs = tr.Bare(str(src), "condition")
	} else {
		s, errs = tr.Value(str(src))
	}
	if len(errs) == 0 {
		_, errs = s.Bind(scope())
	}
	return errs.Error()
}

func TestErrors(t *testing.T) {
	for src, want := range map[string]string{
		"${{ inptu.x }}":               "f.yaml:3:14: unknown name inptu; did you mean \"input\"?",
		"${{ uper('a') }}":             `f.yaml:3:14: unknown function "uper"; did you mean "upper"?`,
		"ab ${{ 1 + }}":                "f.yaml:3:13: invalid expression: unexpected token EOF",
		"${{ 1 + ":                     `f.yaml:3:10: template "${{" is not closed by "}}"`,
		"x ${{  }}":                    `f.yaml:3:12: empty template "${{ }}"`,
		"${{ nodes }}":                 "f.yaml:3:14: nodes must be followed by a node id, as in nodes.ID.output",
		"${{ nodes[input.x].output }}": "f.yaml:3:14: nodes must be followed by a node id, as in nodes.ID.output",
		"${{ nodes.zz.output }}":       "f.yaml:3:14: unknown node zz",
		"${{ 1 + 'a' }}":               "f.yaml:3:10: invalid expression: invalid operation: + (mismatched types integer and string)",
		"${{ int('x') }}":              "f.yaml:3:10: expression fails: invalid operation: int(x)",
		"${{ upper(1, 2) }}":           "f.yaml:3:10: invalid expression: too many arguments to call upper",
	} {
		require.Equal(t, want, bindErrors(src, false), src)
	}
	require.Equal(t, `f.yaml:3:10: condition takes a bare expression: write it without "${{ }}"`, bindErrors("${{ input.x }} > 1", true))
}

func TestBare(t *testing.T) {
	for _, src := range []string{"input.x > 1", "${{ input.x > 1 }}"} {
		tr := NewTranslator("f.yaml", nil)
		s, errs := tr.Bare(str(src), "condition")
		require.Empty(t, errs)
		e, errs := s.Bind(scope())
		require.Empty(t, errs)
		require.Equal(t, true, run(t, e, map[string]any{"input": map[string]any{"x": 2}}))
	}
}

func TestConstantFolding(t *testing.T) {
	e := compileValue(t, str("${{ 1 + 2 }}"))
	require.True(t, e.Const)
	require.Equal(t, 3, e.Value)
	e = compileValue(t, str("${{ 3.0 }}"))
	require.Equal(t, 3, e.Value)
	e = compileValue(t, mapOf("n", &dsl.Value{Kind: dsl.Int, Int: 7}, "s", str("a ${{ upper('b') }}")))
	require.True(t, e.Const)
	require.Equal(t, map[string]any{"n": 7, "s": "a B"}, e.Value)
	// YAML ints arrive as int64 and leave as int.
	e = compileValue(t, &dsl.Value{Kind: dsl.List, List: []*dsl.Value{{Kind: dsl.Int, Int: 5}}})
	require.Equal(t, []any{5}, e.Value)
	// now() changes on every run: never folded.
	e = compileValue(t, str("${{ now() }}"))
	require.False(t, e.Const)
	// Loops, ranges, let and repeat may cost unbounded time: left to run
	// time, where they cost the run, not the compiler.
	for _, src := range []string{
		"${{ reduce(1..100000, #acc + 'xxxxxxxxxx', '') }}",
		"${{ map([1], # * 2) }}",
		"${{ let a = 'x'; a + a }}",
		"${{ repeat('x', 3) }}",
	} {
		require.False(t, compileValue(t, str(src)).Const, src)
	}
	// A duration value is not plain data: left to run time.
	e = compileValue(t, str("${{ duration('1h') }}"))
	require.False(t, e.Const)
	// NaN cannot be serialized: left to run time.
	e = compileValue(t, &dsl.Value{Kind: dsl.Float, Float: math.NaN()})
	require.False(t, e.Const)
}

func TestLiteralsRoundTrip(t *testing.T) {
	v := &dsl.Value{Kind: dsl.List, List: []*dsl.Value{
		{Kind: dsl.Int, Int: math.MinInt64},
		{Kind: dsl.Float, Float: 1e21},
		{Kind: dsl.Float, Float: 2},
		{Kind: dsl.Float, Float: 1e-7},
		{Kind: dsl.String, Str: "é\x01\n\"\\ ${"},
		{Kind: dsl.Null},
		{Kind: dsl.Bool, Bool: true},
		str("${{ 1 }}"),
	}}
	e := compileValue(t, v)
	require.True(t, e.Const)
	require.Equal(t, []any{math.MinInt64, 1e21, 2, 1e-7, "é\x01\n\"\\ ${", nil, true, 1}, e.Value)
}

func TestRunErrorHasPosition(t *testing.T) {
	e := compileValue(t, str("${{ input.a.b.c }}"))
	p, err := Compile(e)
	require.NoError(t, err)
	_, err = p.Run(map[string]any{"input": map[string]any{}})
	require.EqualError(t, err, "expression at 3:10: cannot fetch b from null")
	// Missing keys read as nil.
	v, err := p.Run(map[string]any{"input": map[string]any{"a": map[string]any{"b": map[string]any{}}}})
	require.NoError(t, err)
	require.Nil(t, v)
}

func TestPositionsInQuotedString(t *testing.T) {
	src := []byte("nodes:\n  - params: {msg: \"hi ${{ inptu.x }}\"}\n")
	tr := NewTranslator("f.yaml", src)
	v := &dsl.Value{Kind: dsl.String, Str: "hi ${{ inptu.x }}", Pos: dsl.Pos{Line: 2, Col: 19}}
	s, errs := tr.Value(v)
	require.Empty(t, errs)
	_, errs = s.Bind(scope())
	require.Equal(t, `f.yaml:2:27: unknown name inptu; did you mean "input"?`, errs.Error())
}

func TestYAMLCommentHint(t *testing.T) {
	src := []byte("nodes:\n  condition: sum(map(x, #.v)) > 1\n")
	tr := NewTranslator("f.yaml", src)
	v := &dsl.Value{Kind: dsl.String, Str: "sum(map(x,", Pos: dsl.Pos{Line: 2, Col: 14}}
	_, errs := tr.Bare(v, "condition")
	require.Equal(t, `f.yaml:2:14: invalid expression: unexpected token EOF; the " #" after it starts a YAML comment: quote the whole value`, errs.Error())
}

func TestSimpleChainMatchesParser(t *testing.T) {
	// The fast path must find exactly what the parser finds.
	c := newConfig()
	for _, text := range []string{" nodes.a.output.v ", "item", "input.order_id", "nodes", "run.id", "a.b_2.c"} {
		fast, ok := simpleChain(text)
		require.True(t, ok, text)
		slow := analyzeSlow(text, c)
		require.Equal(t, slow, fast, text)
	}
	for _, text := range []string{"true", "a.0", "a + b", "nil", "é.x", "a.b()", "a .b", ""} {
		_, ok := simpleChain(text)
		require.False(t, ok, text)
	}
}

// analyzeSlow is analyze without the fast path.
func analyzeSlow(text string, c *conf.Config) *parsed {
	tree, err := parser.ParseWithConfig(text, c)
	if err != nil {
		return nil
	}
	w := &walker{p: &parsed{}}
	w.walk(tree.Node)
	for i := range w.p.uses {
		w.p.uses[i].names = pathNames(w.p.uses[i].path)
	}
	return w.p
}

// TestDeclaredInputTypes: with the inputs' types declared, the checker
// refuses what can only fail and knows the type of what it can tell;
// everything it cannot tell stays unknown.
func TestDeclaredInputTypes(t *testing.T) {
	inputs := map[string]string{"n": "integer", "x": "number", "s": "string", "b": "boolean",
		"l": "list", "m": "map", "u": "", "odd": "whatever"}
	for _, tc := range []struct {
		src     string
		typ     string // TypeName of the bare expression
		wantErr string // substring of the error; "" for none
	}{
		{src: "input.n + 1", typ: "number"},
		{src: "input.n", typ: "number"},
		{src: "input.s", typ: "string"},
		{src: "input.b", typ: "boolean"},
		{src: "input.l", typ: "list"},
		{src: "input.m", typ: "map"},
		{src: "input", typ: "map"},
		{src: "input.u", typ: ""},
		{src: "input.odd", typ: ""},
		{src: "input.undeclared", typ: ""}, // refused by the compiler's scope, not here
		{src: "input.m.k", typ: ""},
		{src: "input.l[0]", typ: ""},
		{src: "item + 1", typ: ""},
		{src: "len(item)", typ: "number"},
		{src: "input.n > 0 and input.b", typ: "boolean"},
		{src: "input.x % 2 == 0", typ: "boolean"}, // a number may be an integer
		{src: "0..input.x", typ: "list"},
		{src: "input.s == nil", typ: "boolean"},
		{src: "let input = 'a'; input + 'b'", typ: "string"},
		{src: "duration(input.s)", typ: "duration"},
		{src: "date(input.s)", typ: "time"},
		{src: "input.s - 1 > 0", wantErr: "mismatched types string and int"},
		{src: "input.n.k", wantErr: "type integer has no field k"},
		{src: "upper(input.n)", wantErr: "call upper"},
		{src: "input.l + input.l", wantErr: "mismatched types"},
		{src: "input.n == 'one'", wantErr: "mismatched types integer and string"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			tr := NewTranslator("f.yaml", nil)
			tr.DeclareInputs(inputs)
			s, errs := tr.Bare(str(tc.src), "condition")
			if tc.wantErr != "" {
				require.Len(t, errs, 1)
				require.Contains(t, errs[0].Msg, tc.wantErr)
				require.NotContains(t, errs[0].Msg, "\n")
				return
			}
			require.Empty(t, errs)
			require.Equal(t, tc.typ, s.TypeName())
		})
	}
}

// TestUndeclaredInputTypesStayUnknown: without typed inputs the checker
// only refuses what needs no types, and inputs are unknown.
func TestUndeclaredInputTypesStayUnknown(t *testing.T) {
	for _, decl := range []map[string]string{nil, {"a": ""}, {"a": "any"}} {
		tr := NewTranslator("f.yaml", nil)
		if decl != nil {
			tr.DeclareInputs(decl)
		}
		s, errs := tr.Bare(str("input.a - 1"), "condition")
		require.Empty(t, errs)
		require.Equal(t, "", s.TypeName())
	}
}

// TestTypeNameOfParams: each param that is one whole template has the
// static type of its expression; concatenations have none.
func TestTypeNameOfParams(t *testing.T) {
	tr := NewTranslator("f.yaml", nil)
	tr.DeclareInputs(map[string]string{"n": "integer", "l": "list"})
	a, b, c, d := str("${{ input.n }}"), str("n=${{ input.n }}"), str("${{ input.l }}"), str("plain")
	s, errs := tr.Value(mapOf("a", a, "b", b, "c", c, "d", d))
	require.Empty(t, errs)
	require.Equal(t, "", s.TypeName(), "a map is not one expression")
	require.Equal(t, "number", s.TypeNameOf(a))
	require.Equal(t, "", s.TypeNameOf(b))
	require.Equal(t, "list", s.TypeNameOf(c))
	require.Equal(t, "", s.TypeNameOf(d))
}

// TestRunErrorPositionsFollowRewrites: a run-time error is positioned at
// the value whose template failed, also after `nodes.CALL.INNER` was
// rewritten to a longer text before it.
func TestRunErrorPositionsFollowRewrites(t *testing.T) {
	at := func(v *dsl.Value, line, col int) *dsl.Value { v.Pos = dsl.Pos{Line: line, Col: col}; return v }
	v := mapOf(
		"a", at(str("${{ nodes.call.inner.output }}"), 4, 10),
		"b", at(str("plain"), 5, 10),
		"c", at(str("${{ input.x.y }}"), 6, 10),
	)
	e := compileValue(t, v)
	require.Equal(t, `{"a": ( nodes["call.inner"].output ), "b": "plain", "c": ( input.x.y )}`, e.Src)
	// Each span starts at the "(" that opens its template.
	require.Equal(t, []blueprint.Span{{From: 6, Pos: blueprint.Pos{Line: 4, Col: 10}}, {From: 57, Pos: blueprint.Pos{Line: 6, Col: 10}}}, e.Spans)
	p, err := Compile(e)
	require.NoError(t, err)
	_, err = p.Run(map[string]any{"nodes": map[string]any{"call.inner": map[string]any{"output": 1}}, "input": map[string]any{}})
	var xe *Error
	require.ErrorAs(t, err, &xe)
	require.Equal(t, blueprint.Pos{Line: 6, Col: 10}, xe.Pos, err.Error())
	_, err = p.Run(map[string]any{"nodes": map[string]any{}, "input": map[string]any{}})
	require.ErrorAs(t, err, &xe)
	require.Equal(t, blueprint.Pos{Line: 4, Col: 10}, xe.Pos, err.Error())
}

// TestEscapedTemplateMark: "$${{" writes a literal "${{", alone or beside
// real templates, and the "}}" after it is text.
func TestEscapedTemplateMark(t *testing.T) {
	env := map[string]any{"input": map[string]any{"x": 7}}
	for _, tc := range []struct {
		src  string
		want any
	}{
		{"$${{ input.x }}", "${{ input.x }}"},
		{"GitHub writes $${{ github.sha }}", "GitHub writes ${{ github.sha }}"},
		{"$${{ a }} is ${{ input.x }}", "${{ a }} is 7"},
		{"${{ input.x }} then $${{", "7 then ${{"},
	} {
		require.Equal(t, tc.want, run(t, compileValue(t, str(tc.src)), env), "%q", tc.src)
	}
}
