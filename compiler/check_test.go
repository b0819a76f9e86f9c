package compiler

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/dsl"
)

// errLines compiles src and returns its error lines; "" when it compiles.
func errLines(t *testing.T, src string) string {
	t.Helper()
	bp, errs := Compile("t.yaml", []byte(src), Options{})
	if len(errs) == 0 {
		require.NotNil(t, bp)
		return ""
	}
	require.Nil(t, bp)
	return errs.Error()
}

func TestNodeIDsAreUniqueInTheWholeFile(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{
			name: "functions and the top level",
			src: `name: t
functions:
  f:
    nodes: [{id: a, kind: Action, action: noop}]
  g:
    nodes: [{id: a, kind: Action, action: noop}]
nodes:
  - {id: a, kind: Action, action: noop}
  - {id: c, kind: Call, function: f}
`,
			want: `t.yaml:6:18: duplicate node id "a" (first defined at 4:18, in function "f"; ids are unique in the whole file, functions included)
t.yaml:8:10: duplicate node id "a" (first defined at 4:18, in function "f"; ids are unique in the whole file, functions included)`,
		},
		{
			name: "functions written after the nodes",
			src: `name: t
nodes:
  - {id: a, kind: Action, action: noop}
  - {id: c, kind: Call, function: f}
functions:
  f:
    nodes: [{id: a, kind: Action, action: noop}]
`,
			want: `t.yaml:7:18: duplicate node id "a" (first defined at 3:10, in the top-level nodes; ids are unique in the whole file, functions included)`,
		},
		{
			name: "twice in one function called twice is one error",
			src: `name: t
functions:
  f:
    nodes:
      - {id: s, kind: Action, action: noop}
      - {id: s, kind: Action, action: noop}
nodes:
  - {id: c1, kind: Call, function: f}
  - {id: c2, kind: Call, function: f}
`,
			want: `t.yaml:6:14: duplicate node id "s" (first defined at 5:14)`,
		},
		{
			name: "in a catch block and a never called function",
			src: `name: t
functions:
  unused:
    nodes: [{id: h, kind: Action, action: noop}]
nodes:
  - id: a
    kind: Action
    action: fail
    params: {message: x}
    catch: [{id: h, kind: Action, action: noop}]
`,
			want: `t.yaml:10:18: duplicate node id "h" (first defined at 4:18, in function "unused"; ids are unique in the whole file, functions included)`,
		},
		{
			name: "one function called twice is fine",
			src: `name: t
functions:
  f:
    nodes: [{id: s, kind: Action, action: noop}]
nodes:
  - {id: c1, kind: Call, function: f}
  - {id: c2, kind: Call, function: f}
  - {id: s2, kind: Action, action: set, params: {v: "${{ nodes.c1.s.output }}"}}
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, errLines(t, tc.src))
		})
	}
}

// TestTemplateTextIsKept: the YAML forms of a template around which text,
// white space included, makes the value a string.
func TestTemplateTextIsKept(t *testing.T) {
	bp, errs := Compile("t.yaml", []byte(`name: t
nodes:
  - id: a
    kind: Action
    action: set
    params:
      lead: " ${{ 1 }}"
      list: "  ${{ [1,2] }}  "
      exact: "${{ [1,2] }}"
      inner: "${{   [1,2]   }}"
      plain: ${{ 2 }}
      block: |
        ${{ 3 }}
      chomped: |-
        ${{ 4 }}
`), Options{NoOpt: true})
	require.Empty(t, errs)
	e := bp.Exprs[bp.Code[0].Steps[0].Params]
	require.True(t, e.Const, e.Src)
	require.Equal(t, map[string]any{
		"lead": " 1", "list": "  [1,2]  ", "exact": []any{1, 2}, "inner": []any{1, 2},
		"plain": 2, "block": "3\n", "chomped": 4,
	}, e.Value)
}

func TestLoopIterationsAreBounded(t *testing.T) {
	src := func(n string) string {
		return `name: t
nodes:
  - id: w
    kind: Loop
    while: "true"
    max_iterations: ` + n + `
    body:
      - {id: a, kind: Action, action: noop}
`
	}
	require.Equal(t, "", errLines(t, src("1000000")))
	require.Equal(t, "t.yaml:6:21: max_iterations is 1000000000; the limit is 1000000", errLines(t, src("1000000000")))
}

func TestParallelBranchesAreBounded(t *testing.T) {
	src := func(n int) string {
		var b strings.Builder
		b.WriteString("name: t\nnodes:\n  - id: p\n    kind: Parallel\n    branches:\n")
		for i := range n {
			fmt.Fprintf(&b, "      - [{id: a%d, kind: Action, action: noop}]\n", i)
		}
		return b.String()
	}
	require.Equal(t, "", errLines(t, src(MaxParallelBranches)))
	require.Equal(t, "t.yaml:6:7: Parallel has 10001 branches; the limit is 10000: run the same steps over a list with a for_each Loop instead",
		errLines(t, src(MaxParallelBranches+1)))
}

// The schema editors use states the same limits as the compiler.
func TestSchemaStatesTheCompilerLimits(t *testing.T) {
	s := string(dsl.Schema())
	require.Contains(t, s, fmt.Sprintf(`"maximum": %d`, MaxIterationsLimit))
	require.Contains(t, s, fmt.Sprintf(`"maxItems": %d`, MaxParallelBranches))
}

// A deadline written as an RFC 3339 time, quoted or not, is that time; a
// bare date gets a message about the format, not about numbers.
func TestWaitUntilTakesALiteralTime(t *testing.T) {
	src := func(until string) string {
		return "name: t\nnodes:\n  - {id: w, kind: Wait, until: " + until + "}\n"
	}
	for _, until := range []string{`2030-01-02T15:04:05Z`, `"2030-01-02T15:04:05+01:00"`, `2030-01-02T15:04:05.5Z`} {
		bp, errs := Compile("t.yaml", []byte(src(until)), Options{})
		require.Empty(t, errs, until)
		e := bp.Exprs[bp.Code[0].Expr]
		require.True(t, e.Const, until)
		require.Equal(t, strings.Trim(until, `"`), e.Value, until)
	}
	require.Equal(t, `t.yaml:3:32: until must be an RFC 3339 time with a time of day and a zone, such as 2030-01-02T15:04:05Z, not "2030-01-02"`,
		errLines(t, src("2030-01-02")))
	require.Equal(t, "", errLines(t, src(`"'2030-01-02T15:04:05Z'"`)), "the expression form still works")
}
