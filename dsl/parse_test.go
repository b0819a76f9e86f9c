package dsl

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// parseWithin parses src and fails the test when that takes longer than
// bound (ten times longer under the race detector). The bounds sit far
// above the expected times: they catch a lost limit, whose inputs then
// take many seconds, not a slow machine.
func parseWithin(t *testing.T, bound time.Duration, file string, src []byte, opts ...Option) (*Workflow, ErrorList) {
	t.Helper()
	if raceEnabled {
		bound *= 10
	}
	start := time.Now()
	w, errs := Parse(file, src, opts...)
	require.Less(t, time.Since(start), bound, "parsing %d bytes", len(src))
	return w, errs
}

func mustParse(t *testing.T, src string, opts ...Option) *Workflow {
	t.Helper()
	w, errs := Parse("flow.yaml", []byte(src), opts...)
	require.Empty(t, errs, "unexpected errors:\n%s", errs.Error())
	require.NotNil(t, w)
	return w
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func TestSeedExampleParses(t *testing.T) {
	w := mustParse(t, string(readTestdata(t, "seed_readme.yaml")))
	require.Equal(t, "data-processing-pipeline", w.Name)
	require.Len(t, w.Nodes, 2)

	start := w.Nodes[0]
	require.Equal(t, "start", start.ID)
	require.Equal(t, "Parallel", start.Kind)
	require.Len(t, start.Branches, 2)
	a := start.Branches[0][0]
	require.Equal(t, "process_a", a.ID)
	require.Equal(t, "http_post", a.Action)
	require.Equal(t, "https://api.example.com/v1/data", a.Params.Get("url").Str)
	require.Equal(t, "Processing parallel stream B...", start.Branches[1][0].Params.Get("msg").Str)
	require.Equal(t, "aggregate", w.Nodes[1].ID)
}

func TestSpecExampleParses(t *testing.T) {
	w := mustParse(t, string(readTestdata(t, "spec_example.yaml")))
	require.Equal(t, "order-pipeline", w.Name)
	require.Equal(t, "3", w.Version)
	require.Equal(t, "Fetch, enrich and ship an order", w.Description)

	require.Len(t, w.Inputs, 2)
	require.Equal(t, "order_id", w.Inputs[0].Name)
	require.Equal(t, "string", w.Inputs[0].Type)
	require.True(t, w.Inputs[0].Required)
	require.Equal(t, int64(3), w.Inputs[1].Default.Int)

	require.Equal(t, 30*time.Second, w.Defaults.Timeout.D)
	r := w.Defaults.Retry
	require.Equal(t, 3, r.MaxAttempts)
	require.Equal(t, 200*time.Millisecond, r.InitialInterval.D)
	require.Equal(t, 2.0, r.Backoff)
	require.Equal(t, 10*time.Second, r.MaxInterval.D)

	require.Len(t, w.Functions, 1)
	require.Equal(t, []string{"channel", "text"}, w.Functions[0].Params)
	require.Equal(t, "send", w.Functions[0].Nodes[0].ID)

	big := w.Nodes[1]
	require.Equal(t, "nodes.fetch.output.body.total > 1000", big.Condition.Str)
	require.True(t, big.HasElse)
	require.Equal(t, "notify", big.Then[0].Function)
	require.Equal(t, "ops", big.Then[0].Args.Get("channel").Str)

	lines := w.Nodes[2]
	require.Equal(t, "nodes.fetch.output.body.lines", lines.ForEach.Str)
	require.Nil(t, lines.While)
	require.Equal(t, "line", lines.As)
	require.Equal(t, 8, lines.Concurrency)

	require.Equal(t, String, w.Output.Kind)
	require.True(t, strings.HasPrefix(w.Output.Str, "${{"))
}

// The conformance cases that the product must accept parse cleanly; the
// two invalid ones that fail at parse level report exactly their problem.
func TestConformanceCases(t *testing.T) {
	files, err := filepath.Glob("testdata/cases/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		name := filepath.Base(f)
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		w, errs := Parse("flow.yaml", src)
		switch name {
		case "invalid_yaml_syntax.yaml":
			require.Nil(t, w)
			require.Equal(t, "flow.yaml:4:11: invalid YAML: mapping value is not allowed in this context", errs.Error())
		case "invalid_many_errors.yaml":
			// Duplicate ids, unknown actions and references are the
			// compiler's; the misspelt kind is the parser's.
			require.NotNil(t, w)
			require.Equal(t, `flow.yaml:11:11: unknown kind "Paralel"; did you mean "Parallel"?`, errs.Error())
			require.Len(t, w.Nodes, 4, "a node with an unknown kind stays in the tree for the compiler")
		default:
			require.Empty(t, errs, "%s:\n%s", name, errs.Error())
			require.NotNil(t, w, name)
		}
	}
}

func TestPositionsOfNestedValues(t *testing.T) {
	src := `name: pos
nodes:
  - id: outer
    kind: Loop
    for_each: "[1, 2]"
    body:
      - id: gate
        kind: If
        condition: item > 1
        then:
          - id: par
            kind: Parallel
            branches:
              - - {id: deep, kind: Action, action: log, params: {msg: "hi ${{ item }}"}}
        else: []
`
	w := mustParse(t, src)
	require.Equal(t, Pos{3, 3}, w.NodesPos, "a block sequence starts at its first dash")
	outer := w.Nodes[0]
	require.Equal(t, Pos{3, 5}, outer.Pos)
	require.Equal(t, Pos{3, 9}, outer.IDPos)
	require.Equal(t, Pos{4, 11}, outer.KindPos)
	require.Equal(t, Pos{5, 15}, outer.ForEach.Pos)
	require.Equal(t, Pos{6, 5}, outer.FieldPos["body"])

	gate := outer.Body[0]
	require.Equal(t, Pos{7, 9}, gate.Pos)
	require.Equal(t, Pos{9, 20}, gate.Condition.Pos)
	require.Equal(t, Pos{10, 9}, gate.FieldPos["then"])
	require.True(t, gate.HasElse)
	require.Empty(t, gate.Else)

	par := gate.Then[0]
	require.Equal(t, Pos{11, 13}, par.Pos)
	require.Equal(t, Pos{14, 15}, par.BranchesPos)

	deep := par.Branches[0][0]
	require.Equal(t, Pos{14, 19}, deep.Pos, "a flow mapping starts at its brace")
	require.Equal(t, Pos{14, 24}, deep.IDPos)
	require.Equal(t, Pos{14, 52}, deep.ActionPos)
	msg := deep.Params.Map[0]
	require.Equal(t, Pos{14, 66}, msg.KeyPos)
	require.Equal(t, Pos{14, 71}, msg.Value.Pos)
	require.Equal(t, map[string]Pos{
		"id": {14, 20}, "kind": {14, 30}, "action": {14, 44}, "params": {14, 57},
	}, deep.FieldPos)
}

func TestDefaultsAndNormalisation(t *testing.T) {
	src := `name: norm
version: 3.5
nodes:
  - {id: w, kind: Loop, while: true, body: [{id: a, kind: Action, action: noop}]}
  - {id: f, kind: Loop, for_each: "[1]", concurrency: 0, max_iterations: 5, body: [{id: b, kind: Action, action: noop}]}
  - {id: 7, kind: If, condition: 1, then: [{id: c, kind: Action, action: noop}]}
  - id: s
    kind: Switch
    cases:
      - {when: "false", nodes: [{id: d, kind: Action, action: noop}]}
    default: [{id: e, kind: Action, action: noop}]
  - id: r
    kind: Action
    action: fail
    params:
    on_error: continue
    timeout: 1m30s
    retry: {max_attempts: 2, backoff: 3}
    catch: [{id: g, kind: Wait, until: "${{ now() }}"}]
`
	w := mustParse(t, src)
	require.Equal(t, "3.5", w.Version)

	loop := w.Nodes[0]
	require.Equal(t, 1, loop.Concurrency, "concurrency defaults to 1")
	require.Equal(t, &Value{Kind: String, Pos: Pos{4, 32}, Str: "true"}, loop.While)
	require.Equal(t, 0, loop.MaxIterations)
	require.False(t, loop.MaxIterationsPos.IsValid())

	each := w.Nodes[1]
	require.Equal(t, 0, each.Concurrency, "an explicit 0 means no limit")
	require.Equal(t, 5, each.MaxIterations)
	require.Equal(t, Pos{5, 74}, each.MaxIterationsPos)
	require.Equal(t, "", each.As)

	cond := w.Nodes[2]
	require.Equal(t, "7", cond.ID)
	require.Equal(t, "1", cond.Condition.Str)
	require.False(t, cond.HasElse)

	sw := w.Nodes[3]
	require.Len(t, sw.Cases, 1)
	require.Equal(t, "false", sw.Cases[0].When.Str)
	require.True(t, sw.HasDefault)
	require.Equal(t, "e", sw.Default[0].ID)

	r := w.Nodes[4]
	require.Nil(t, r.Params, "an empty params: is no params")
	require.Equal(t, "continue", r.OnError)
	require.Equal(t, Pos{16, 15}, r.OnErrPos)
	require.Equal(t, 90*time.Second, r.Timeout.D)
	require.Equal(t, "1m30s", r.Timeout.Src)
	require.Equal(t, 2, r.Retry.MaxAttempts)
	require.Equal(t, 3.0, r.Retry.Backoff)
	require.True(t, r.HasCatch)
	require.Equal(t, "${{ now() }}", r.Catch[0].Until.Str)
}

func TestValues(t *testing.T) {
	src := `name: values
nodes:
  - id: a
    kind: Action
    action: set
    params:
      i: 42
      neg: -7
      hex: 0x1f
      big: 18446744073709551615
      f: 2.5
      t: true
      n: null
      tilde: ~
      empty:
      s: plain
      q: 'quoted'
      lit: |
        two
        lines
      list: [1, "two", 3.0]
      str: !!str 3
      int: !!int "12"
      float: !!float 2
      yes: !!bool "yes"
      nil: !!null x
`
	w := mustParse(t, src)
	got := w.Nodes[0].Params.Go()
	require.Equal(t, map[string]any{
		"i": int64(42), "neg": int64(-7), "hex": int64(31), "big": 18446744073709551615.0,
		"f": 2.5, "t": true, "n": nil, "tilde": nil, "empty": nil,
		"s": "plain", "q": "quoted", "lit": "two\nlines\n",
		"list": []any{int64(1), "two", 3.0},
		"str":  "3", "int": int64(12), "float": 2.0, "yes": true, "nil": nil,
	}, got)
	require.Equal(t, Float, w.Nodes[0].Params.Get("list").List[2].Kind, "3.0 stays a float")
}

func TestAliasesAndMergeKeys(t *testing.T) {
	src := `name: anchors
defaults:
  retry: &retry {max_attempts: 3, initial_interval: 1s}
x-common: &common
  kind: Action
  action: log
y-common: &y {}
nodes:
  - <<: *common
    id: a
    params: &p {msg: hello}
  - <<: [*common, {action: noop, name: second}]
    id: b
    action: set
    params: *p
    retry: *retry
`
	// Top-level keys starting with "x-" are ignored, as in Compose files,
	// to give anchors a home; other unknown keys are reported, and their
	// anchors still work.
	w, errs := Parse("flow.yaml", []byte(src))
	require.Equal(t, `flow.yaml:7:1: unknown field "y-common"`, errs.Error())
	require.Len(t, w.Nodes, 2)

	a := w.Nodes[0]
	require.Equal(t, "Action", a.Kind)
	require.Equal(t, "log", a.Action)
	require.Equal(t, Pos{6, 11}, a.ActionPos, "a merged value keeps the anchor's position")

	b := w.Nodes[1]
	require.Equal(t, "set", b.Action, "a key written in the mapping wins over merged ones")
	require.Equal(t, "second", b.Name)
	require.Equal(t, "hello", b.Params.Get("msg").Str)
	require.Equal(t, Pos{15, 13}, b.Params.Pos, "an alias points at itself")
	require.Equal(t, Pos{11, 17}, b.Params.Map[0].KeyPos, "inside, the anchor's positions")
	require.Equal(t, 3, b.Retry.MaxAttempts)
	require.Equal(t, Pos{16, 12}, b.Retry.Pos)
}

func billionLaughs(levels int) string {
	var b strings.Builder
	b.WriteString("x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < levels; i++ {
		p := "*a" + string(rune('0'+i-1))
		b.WriteString("x-a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		b.WriteString(strings.Repeat(p+", ", 9) + p + "]\n")
	}
	b.WriteString("name: bomb\nnodes: [{id: x, kind: Action, action: set, params: {v: *a" + string(rune('0'+levels-1)) + "}}]\n")
	return b.String()
}

func TestAliasBombRefusedFast(t *testing.T) {
	src := billionLaughs(10) // 10^10 values once expanded
	w, errs := parseWithin(t, time.Second, "bomb.yaml", []byte(src))
	require.Nil(t, w)
	require.Len(t, errs, 1)
	require.Equal(t, "document expands to more than 1000000 values (YAML alias bomb?)", errs[0].Msg)

	// The same file under a budget that fits it expands fully.
	small := billionLaughs(3) // 1,000 "lol"s
	w, errs = Parse("small.yaml", []byte(small), WithMaxNodes(3000))
	require.Empty(t, errs)
	v := w.Nodes[0].Params.Get("v")
	require.Len(t, v.List, 10)
	require.Len(t, v.List[9].List[9].List, 10)
	_, errs = Parse("small.yaml", []byte(small), WithMaxNodes(2000))
	require.Equal(t, "small.yaml:5:56: document expands to more than 2000 values (YAML alias bomb?)", errs.Error())
}

func TestDeepNestingRefusedFast(t *testing.T) {
	for name, src := range map[string]string{
		"flow":    "name: deep\nnodes: " + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "\n",
		"block":   "name: deep\nnodes:\n" + strings.Repeat("- ", 100_000) + "x\n",
		"mapping": "name: deep\nnodes: " + strings.Repeat("{a: ", 50_000) + "1" + strings.Repeat("}", 50_000) + "\n",
	} {
		_, errs := parseWithin(t, time.Second, "deep.yaml", []byte(src))
		require.Len(t, errs, 1, name)
		require.Equal(t, "document nests deeper than 100 levels", errs[0].Msg, name)
	}
	// Nesting through aliases is bounded too.
	var b strings.Builder
	b.WriteString("x-a: &a " + strings.Repeat("[", 90) + strings.Repeat("]", 90) + "\n")
	b.WriteString("x-b: &b " + strings.Repeat("[", 90) + "*a" + strings.Repeat("]", 90) + "\n")
	b.WriteString("x-c: " + strings.Repeat("[", 90) + "*b" + strings.Repeat("]", 90) + "\n")
	b.WriteString("name: x\nnodes: [{id: a, kind: Action, action: noop}]\n")
	_, errs := Parse("deep.yaml", []byte(b.String()))
	require.Equal(t, "deep.yaml:3:96: document nests deeper than 200 levels once aliases are expanded", errs.Error())

	// Just under the bound is fine, in flow and in block style.
	mustParse(t, "name: x\nnodes: [{id: a, kind: Action, action: set, params: {v: "+
		strings.Repeat("[", maxDepth-5)+strings.Repeat("]", maxDepth-5)+"}}]\n")
	mustParse(t, "name: x\nnodes: [{id: a, kind: Action, action: set, params: {v: 1}}]\nx-deep:\n"+
		strings.Repeat("- ", maxDepth-2)+"x\n")
}

func TestSizeLimit(t *testing.T) {
	src := []byte("name: big\nnodes: [{id: a, kind: Action, action: noop}]\n# " + strings.Repeat("x", 100) + "\n")
	_, errs := Parse("big.yaml", src, WithMaxBytes(64))
	require.Equal(t, "big.yaml:1:1: file is 158 bytes, over the 64-byte limit", errs.Error())
	_, errs = Parse("big.yaml", src, WithMaxBytes(len(src)))
	require.Empty(t, errs)

	huge := make([]byte, DefaultMaxBytes+1)
	_, errs = parseWithin(t, 10*time.Millisecond, "huge.yaml", huge) // refused before any parsing
	require.Equal(t, "huge.yaml:1:1: file is 10485761 bytes, over the 10 MiB limit", errs.Error())
}

func TestJSONInput(t *testing.T) {
	src := `{
  "name": "json",
  "inputs": {"n": {"type": "integer", "default": 2}},
  "nodes": [
    {"id": "a", "kind": "Action", "action": "set", "params": {"v": [1, 2.5, true, null]}},
    {"id": "b", "kind": "If", "condition": "input.n > 1",
     "then": [{"id": "c", "kind": "Action", "action": "noop"}]}
  ]
}`
	w := mustParse(t, src)
	require.Equal(t, "json", w.Name)
	require.Equal(t, int64(2), w.Inputs[0].Default.Int)
	require.Equal(t, []any{int64(1), 2.5, true, nil}, w.Nodes[0].Params.Get("v").Go())
	require.Equal(t, Pos{6, 5}, w.Nodes[1].Pos)
	require.Equal(t, Pos{6, 44}, w.Nodes[1].Condition.Pos)
	require.Equal(t, "c", w.Nodes[1].Then[0].ID)
}

func TestDocumentShape(t *testing.T) {
	_, errs := Parse("f.yaml", []byte("name: a\nnodes: [{id: a, kind: Action, action: noop}]\n---\nname: b\n"))
	require.Equal(t, "f.yaml:4:1: a workflow file holds one YAML document, found 2", errs.Error())

	for _, src := range []string{"", "# only a comment\n", "---\n"} {
		w, errs := Parse("f.yaml", []byte(src))
		require.Nil(t, w)
		require.Equal(t, `f.yaml:1:1: the file holds no YAML document; a workflow needs at least "name" and "nodes"`, errs.Error(), "%q", src)
	}

	// A document marker before the only document is fine.
	mustParse(t, "---\nname: a\nnodes: [{id: a, kind: Action, action: noop}]\n")
}

func TestParseValue(t *testing.T) {
	v, errs := ParseValue("in.yaml", []byte("a: 1\nb: [x]\n"))
	require.Empty(t, errs)
	require.Equal(t, map[string]any{"a": int64(1), "b": []any{"x"}}, v.Go())
	_, errs = ParseValue("in.yaml", []byte("a: [1\n"))
	require.Len(t, errs, 1)
}

func TestNamePatterns(t *testing.T) {
	for s, want := range map[string]bool{"a": true, "A-b_9": true, "9": true, "": false, "a.b": false, "a b": false, "é": false} {
		require.Equal(t, want, isID(s), "isID(%q)", s)
	}
	for s, want := range map[string]bool{"a": true, "_x9": true, "A_b": true, "9a": false, "": false, "a-b": false, "é": false} {
		require.Equal(t, want, isIdent(s), "isIdent(%q)", s)
	}
}

func TestBlockMappingKeyLimit(t *testing.T) {
	keys := func(n int, line func(i int) string) string {
		var b strings.Builder
		b.WriteString("name: t\nnodes: [{id: a, kind: Action, action: noop}]\nx-data:\n")
		for i := 0; i < n; i++ {
			b.WriteString(line(i))
		}
		return b.String()
	}
	plain := func(i int) string { return "  k" + strconv.Itoa(i) + ": 1\n" }
	_, errs := Parse("f.yaml", []byte(keys(maxBlockKeys, plain)))
	require.Empty(t, errs)
	_, errs = Parse("f.yaml", []byte(keys(maxBlockKeys+1, plain)))
	require.Equal(t, "f.yaml:1004:8: a block mapping has more than 1000 keys; write big data in flow style ({...}) or JSON", errs.Error())

	// Anchors, tags and sequences between the keys do not hide them.
	for name, line := range map[string]func(int) string{
		"anchors":   func(i int) string { return "  &a" + strconv.Itoa(i) + " k" + strconv.Itoa(i) + ": 1\n" },
		"tags":      func(i int) string { return "  !!str k" + strconv.Itoa(i) + ": 1\n" },
		"sequences": func(i int) string { return "  k" + strconv.Itoa(i) + ":\n  - x\n" },
		"quoted":    func(i int) string { return "  \"k" + strconv.Itoa(i) + "\": 1\n" },
		"explicit":  func(i int) string { return "  ? k" + strconv.Itoa(i) + "\n  : 1\n" },
		"key only":  func(i int) string { return "  ? k" + strconv.Itoa(i) + "\n" },
	} {
		_, errs := parseWithin(t, time.Second, "f.yaml", []byte(keys(50_000, line)))
		require.Len(t, errs, 1, name)
		require.Contains(t, errs[0].Msg, "more than 1000 keys", name)
	}

	// Many small mappings, and big flow mappings, are fine.
	var b strings.Builder
	b.WriteString("name: t\nnodes: [{id: a, kind: Action, action: noop}]\nx-list:\n")
	for i := 0; i < 3000; i++ {
		b.WriteString("  - a: 1\n    b: 2\n")
	}
	b.WriteString("x-flow: {")
	for i := 0; i < 3000; i++ {
		b.WriteString("k" + strconv.Itoa(i) + ": 1, ")
	}
	b.WriteString("}\n")
	mustParse(t, b.String())
}

// goccy's own error text renders a source excerpt that took seconds to
// build on this input; the short message must not.
func TestSyntaxErrorIsFast(t *testing.T) {
	src := "name: " + strings.Repeat("[]", 200_000) + "\n"
	_, errs := parseWithin(t, 2*time.Second, "f.yaml", []byte(src))
	require.Len(t, errs, 1)
	require.True(t, strings.HasPrefix(errs[0].Msg, "invalid YAML: "), errs[0].Msg)
}

func TestImplicitNullLimit(t *testing.T) {
	head := "name: t\nnodes: [{id: a, kind: Action, action: noop}]\n"
	for name, c := range map[string]struct {
		unit string
		n    int
	}{
		"sequence entries": {"  -\n", 1},
		"mapping values":   {"  - k:\n", 1},
		"flow keys":        {"k, ", 1},
		"flow values":      {"k: , ", 1},
		"flow pairs":       {"k: , ", 1},
	} {
		wrap := func(n int) string {
			body := strings.Repeat(c.unit, n)
			switch name {
			case "flow keys", "flow values":
				return head + "x-a: {" + body + "}\n"
			case "flow pairs":
				return head + "x-a: [" + body + "]\n"
			}
			return head + "x-a:\n" + body
		}
		_, errs := Parse("f.yaml", []byte(wrap(maxImplicitNulls)))
		for _, e := range errs {
			require.NotContains(t, e.Msg, "empty values", name)
		}
		_, errs = parseWithin(t, time.Second, "f.yaml", []byte(wrap(100_000)))
		require.Len(t, errs, 1, name)
		require.Equal(t, `more than 1000 empty values ("key:" or "-" with nothing after it); write null where a value is meant to be empty`, errs[0].Msg, name)
	}

	// Nested blocks, sequences under their key and explicit nulls are
	// values, not empty ones.
	var b strings.Builder
	b.WriteString(head + "x-a:\n")
	for i := 0; i < 3000; i++ {
		b.WriteString("  - k:\n      v: 1\n    l:\n    - null\n    m: ~\n    n:\n      - x\n")
	}
	mustParse(t, b.String())
}
