package compiler

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/blueprint"
	skexpr "github.com/skript-dev/skript/expr"
)

// compileOK compiles without optimization and fails the test on errors.
func compileOK(t *testing.T, src string) *blueprint.Blueprint {
	t.Helper()
	bp, errs := Compile("t.yaml", []byte(src), Options{NoOpt: true})
	require.Empty(t, errs, "%v", errs)
	require.NoError(t, blueprint.Validate(bp))
	return bp
}

// listing prints the code compactly: one instruction per line as
// "PC Op node [targets] ->target".
func listing(bp *blueprint.Blueprint) string {
	var b strings.Builder
	for pc, in := range bp.Code {
		fmt.Fprintf(&b, "%d %s", pc, in.Op)
		if in.Node >= 0 {
			fmt.Fprintf(&b, " %s", bp.Nodes[in.Node].ID)
		}
		if len(in.Targets) > 0 {
			fmt.Fprintf(&b, " %v", in.Targets)
		}
		if in.Op.UsesTarget() {
			fmt.Fprintf(&b, " ->%d", in.Target)
		}
		for _, s := range in.Steps {
			if s.Catch >= 0 {
				fmt.Fprintf(&b, " catch->%d", s.Catch)
			}
		}
		if in.Failed {
			b.WriteString(" failed")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }

func TestLowerSequenceAndIf(t *testing.T) {
	bp := compileOK(t, `
name: t
nodes:
  - {id: a, kind: Action, action: noop}
  - id: gate
    kind: If
    condition: nodes.a.status == "succeeded"
    then:
      - {id: yes, kind: Action, action: noop}
    else:
      - {id: no, kind: Action, action: noop}
  - id: half
    kind: If
    condition: "true"
    then:
      - {id: only, kind: Action, action: noop}
`)
	require.Equal(t, lines(
		"0 Task a",
		"1 Enter gate",
		"2 Branch gate ->6",
		"3 Skip gate",
		"4 Task yes",
		"5 Jump gate ->8",
		"6 Skip gate",
		"7 Task no",
		"8 Leave gate",
		"9 Enter half",
		"10 Branch half ->13",
		"11 Task only",
		"12 Jump half ->14",
		"13 Skip half",
		"14 Leave half",
		"15 End",
	), listing(bp))
	require.Equal(t, int32(-1), bp.Output)
	cond := bp.Exprs[bp.Code[2].Expr]
	require.Equal(t, "nodes.a.status == \"succeeded\"", cond.Src)
	require.Equal(t, []blueprint.Ref{{Name: "a", Node: 0}}, cond.Refs)
	require.True(t, bp.Exprs[bp.Code[10].Expr].Const)
	// Each arm records the nodes of the other skipped.
	require.Equal(t, []int32{3}, bp.Code[3].Deps)
	require.Equal(t, []int32{2}, bp.Code[6].Deps)
}

func TestLowerParallelAndSwitch(t *testing.T) {
	bp := compileOK(t, `
name: t
nodes:
  - id: fan
    kind: Parallel
    max_concurrency: 2
    branches:
      - - {id: a, kind: Action, action: noop}
        - {id: b, kind: Action, action: noop}
      - - {id: c, kind: Action, action: noop}
  - id: pick
    kind: Switch
    cases:
      - when: nodes.fan.output[0] == nil
        nodes: [{id: one, kind: Action, action: noop}]
      - when: "false"
        nodes: [{id: two, kind: Action, action: noop}]
    default:
      - {id: other, kind: Action, action: noop}
  - id: nodefault
    kind: Switch
    cases:
      - when: "true"
        nodes: [{id: three, kind: Action, action: noop}]
      - when: "true"
        nodes: [{id: four, kind: Action, action: noop}]
`)
	require.Equal(t, 2, bp.Code[0].Concurrency)
	want := lines(
		"0 Fork fan [1 4] ->6",
		"1 Task a",
		"2 Task b",
		"3 Join fan",
		"4 Task c",
		"5 Join fan",
		"6 Enter pick",
		"7 Branch pick ->11",
		"8 Skip pick",
		"9 Task one",
		"10 Jump pick ->17",
		"11 Branch pick ->15",
		"12 Skip pick",
		"13 Task two",
		"14 Jump pick ->17",
		"15 Skip pick",
		"16 Task other",
		"17 Leave pick",
		"18 Enter nodefault",
		"19 Branch nodefault ->23",
		"20 Skip nodefault",
		"21 Task three",
		"22 Jump nodefault ->28",
		"23 Branch nodefault ->27",
		"24 Skip nodefault",
		"25 Task four",
		"26 Jump nodefault ->28",
		"27 Skip nodefault",
		"28 Leave nodefault",
		"29 End",
	)
	require.Equal(t, want, listing(bp))
}

func TestLowerLoops(t *testing.T) {
	bp := compileOK(t, `
name: t
nodes:
  - id: each
    kind: Loop
    for_each: "[1, 2, 3]"
    as: x
    concurrency: 4
    max_iterations: 50
    body:
      - {id: use, kind: Action, action: set, params: {v: "${{ x + index }}", w: "${{ item }}"}}
      - id: inner
        kind: Loop
        while: iteration < 2
        body:
          - {id: deep, kind: Action, action: set, params: {i: "${{ iteration }}", x: "${{ x }}"}}
  - id: plain
    kind: Loop
    for_each: "[]"
    body:
      - {id: p, kind: Action, action: noop}
`)
	require.Equal(t, lines(
		"0 Map each ->7",
		"1 Task use",
		"2 Enter inner",
		"3 While inner ->6",
		"4 Task deep",
		"5 Next inner ->3",
		"6 Join each",
		"7 Map plain ->10",
		"8 Task p",
		"9 Join plain",
		"10 End",
	), listing(bp))
	m := bp.Code[0]
	require.Equal(t, 4, m.Concurrency)
	require.Equal(t, 50, m.Max)
	require.Equal(t, 10000, bp.Code[3].Max)
	require.Equal(t, 1, bp.Code[7].Concurrency, "for_each runs one at a time by default")

	ids := map[string]int32{}
	for i, n := range bp.Nodes {
		ids[n.ID] = int32(i)
	}
	require.Equal(t, "x", bp.Nodes[ids["each"]].Var)
	require.Equal(t, "item", bp.Nodes[ids["plain"]].Var)
	require.Equal(t, "", bp.Nodes[ids["inner"]].Var)
	require.Equal(t, int32(-1), bp.Nodes[ids["each"]].Loop)
	require.Equal(t, ids["each"], bp.Nodes[ids["use"]].Loop)
	require.Equal(t, ids["each"], bp.Nodes[ids["inner"]].Loop)
	require.Equal(t, ids["inner"], bp.Nodes[ids["deep"]].Loop)

	use := bp.Exprs[bp.Code[1].Steps[0].Params]
	require.ElementsMatch(t, []blueprint.Var{
		{Name: "x", Kind: blueprint.VarItem, Node: ids["each"]},
		{Name: "index", Kind: blueprint.VarIndex, Node: ids["each"]},
		{Name: "item", Kind: blueprint.VarItem, Node: ids["each"]},
	}, use.Vars)
	deep := bp.Exprs[bp.Code[4].Steps[0].Params]
	require.ElementsMatch(t, []blueprint.Var{
		{Name: "iteration", Kind: blueprint.VarIteration, Node: ids["inner"]},
		{Name: "x", Kind: blueprint.VarItem, Node: ids["each"]},
	}, deep.Vars)
}

func TestLowerCallAndCatch(t *testing.T) {
	bp := compileOK(t, `
name: t
defaults:
  timeout: 5s
  retry: {max_attempts: 4, initial_interval: 100ms, backoff: 3, max_interval: 1s}
functions:
  greet:
    params: [who]
    nodes:
      - {id: build, kind: Action, action: set, params: {text: "hi ${{ params.who }}"}}
      - {id: shout, kind: Action, action: set, params: {text: "${{ upper(nodes.build.output.text) }}"}}
nodes:
  - {id: first, kind: Call, function: greet, args: {who: ann}}
  - id: risky
    kind: Action
    action: fail
    params: {message: "no"}
    timeout: 1s
    retry: {max_attempts: 2}
    catch:
      - {id: handle, kind: Action, action: set, params: {why: "${{ error.message }}", who: "${{ nodes.first.build.output.text }}"}}
  - {id: soft, kind: Action, action: fail, params: {message: x}, on_error: continue}
  - {id: pause, kind: Wait, duration: 300ms}
  - {id: deadline, kind: Wait, until: "'2030-01-02T15:04:05Z'"}
output: "${{ nodes.first.output }}"
`)
	require.Equal(t, lines(
		"0 Enter first",
		"1 Task first.build",
		"2 Task first.shout",
		"3 Leave first",
		"4 Task risky catch->6",
		"5 Jump risky ->8",
		"6 Task handle",
		"7 Leave risky failed",
		"8 Task soft",
		"9 Wait pause",
		"10 Wait deadline",
		"11 End",
	), listing(bp))
	ids := map[string]int32{}
	for i, n := range bp.Nodes {
		ids[n.ID] = int32(i)
	}
	args := bp.Exprs[bp.Code[0].Expr]
	require.True(t, args.Const)
	require.Equal(t, map[string]any{"who": "ann"}, args.Value)

	build := bp.Exprs[bp.Code[1].Steps[0].Params]
	require.Equal(t, []blueprint.Var{{Name: "params", Kind: blueprint.VarParams, Node: ids["first"]}}, build.Vars)
	shout := bp.Exprs[bp.Code[2].Steps[0].Params]
	require.Equal(t, []blueprint.Ref{{Name: "build", Node: ids["first.build"]}}, shout.Refs)

	handle := bp.Exprs[bp.Code[6].Steps[0].Params]
	require.Equal(t, []blueprint.Var{{Name: "error", Kind: blueprint.VarError, Node: ids["risky"]}}, handle.Vars)
	require.Equal(t, []blueprint.Ref{{Name: "first.build", Node: ids["first.build"]}}, handle.Refs)
	require.Contains(t, handle.Src, `nodes["first.build"].output.text`)

	risky := bp.Code[4].Steps[0]
	require.Equal(t, time.Second, risky.Timeout)
	require.Equal(t, blueprint.Retry{MaxAttempts: 2}, risky.Retry, "a node's retry replaces the default one")
	require.Equal(t, int32(6), risky.Catch)
	soft := bp.Code[8].Steps[0]
	require.True(t, soft.Continue)
	require.Equal(t, map[string]any{"message": "x"}, bp.Exprs[soft.Params].Value)
	require.Equal(t, int32(-1), bp.Code[1].Steps[0].Catch)
	require.Equal(t, 5*time.Second, soft.Timeout)
	require.Equal(t, blueprint.Retry{MaxAttempts: 1}, soft.Retry, "the default retry does not apply to fail, which can never succeed")
	require.Equal(t, blueprint.Retry{MaxAttempts: 4, InitialInterval: 100 * time.Millisecond, Backoff: 3, MaxInterval: time.Second},
		bp.Code[1].Steps[0].Retry, "the default retry applies to other actions")

	pause := bp.Exprs[bp.Code[9].Expr]
	require.True(t, pause.Const)
	require.Equal(t, "300ms", pause.Value)
	require.False(t, bp.Code[9].Until)
	require.True(t, bp.Code[10].Until)

	out := bp.Exprs[bp.Output]
	require.Equal(t, []blueprint.Ref{{Name: "first", Node: ids["first"]}}, out.Refs)
}

func TestInputsTableAndHash(t *testing.T) {
	src := `
name: t
version: "3"
description: d
inputs:
  order_id: {type: string, required: true, description: the order}
  retries: {type: integer, default: 3}
  tags: {type: list, default: [a, 1]}
nodes:
  - {id: a, kind: Action, action: log, params: {msg: "${{ input.order_id }}"}}
`
	bp := compileOK(t, src)
	require.Equal(t, []blueprint.Input{
		{Name: "order_id", Type: "string", Required: true, Description: "the order"},
		{Name: "retries", Type: "integer", Default: 3, HasDefault: true},
		{Name: "tags", Type: "list", Default: []any{"a", 1}, HasDefault: true},
	}, bp.Inputs)
	require.Equal(t, "3", bp.Version)
	require.Len(t, bp.Hash, 64)
	again := compileOK(t, src)
	require.Equal(t, bp.Hash, again.Hash, "compilation is deterministic")
}

func TestPhantomFunctionsEmitNothing(t *testing.T) {
	bp := compileOK(t, `
name: t
functions:
  unused:
    params: [p]
    nodes:
      - {id: u, kind: Action, action: set, params: {v: "${{ params.p }}"}}
nodes:
  - {id: a, kind: Action, action: noop}
`)
	require.Equal(t, int32(-1), bp.Code[0].Steps[0].Params, "no params, no expression")
	require.Len(t, bp.Nodes, 1)
	require.Empty(t, bp.Exprs)
	require.Equal(t, lines("0 Task a", "1 End"), listing(bp))
}

func TestLowerWaitTimeout(t *testing.T) {
	bp := compileOK(t, `
name: t
inputs:
  d: {type: string, default: 2s}
nodes:
  - {id: short, kind: Wait, duration: 1s, timeout: 5s}
  - {id: long, kind: Wait, duration: 1h, timeout: 5s}
  - {id: dyn, kind: Wait, duration: "${{ input.d }}", timeout: 5s}
  - {id: until, kind: Wait, until: "'2030-01-02T15:04:05Z'", timeout: 1m}
`)
	require.Equal(t, lines(
		"0 Wait short",
		"1 Wait long",
		"2 Task long",
		"3 Branch dyn ->6",
		"4 Wait dyn",
		"5 Jump dyn ->8",
		"6 Wait dyn",
		"7 Task dyn",
		"8 Branch until ->11",
		"9 Wait until",
		"10 Jump until ->13",
		"11 Wait until",
		"12 Task until",
		"13 End",
	), listing(bp))
	require.Equal(t, "5s", bp.Exprs[bp.Code[1].Expr].Value)
	fail := bp.Code[2].Steps[0]
	require.Equal(t, "fail", fail.Action)
	require.Equal(t, map[string]any{"message": `Wait "long" timed out after 5s`}, bp.Exprs[fail.Params].Value)

	// The conditions are expressions the runtime can run.
	for pc, want := range map[int]bool{3: true, 8: false} {
		p, err := skexpr.Compile(bp.Exprs[bp.Code[pc].Expr])
		require.NoError(t, err)
		got, err := p.Run(map[string]any{"input": map[string]any{"d": "2s"}})
		require.NoError(t, err)
		require.Equal(t, want, got, "pc %d", pc)
	}
}

// TestNodeParents checks the composite parent of every node, through
// inlined calls and catch blocks, with and without the optimizer (which
// may drop nodes from the table).
func TestNodeParents(t *testing.T) {
	src := `
name: t
functions:
  fn:
    nodes:
      - {id: x, kind: Action, action: sleep, params: {duration: 1ms}}
      - id: s
        kind: Switch
        cases:
          - when: input.k == 1
            nodes: [{id: y, kind: Action, action: sleep, params: {duration: 1ms}}]
        default:
          - id: l
            kind: Loop
            for_each: "[1, 2]"
            body: [{id: z, kind: Action, action: sleep, params: {duration: 1ms}}]
nodes:
  - id: p
    kind: Parallel
    branches:
      - - id: i
          kind: If
          condition: input.go == true
          then: [{id: c, kind: Call, function: fn}]
      - - id: w
          kind: Loop
          while: iteration < 2
          body:
            - id: r
              kind: Action
              action: fail
              params: {message: no}
              catch: [{id: h, kind: Action, action: sleep, params: {duration: 1ms}}]
  - {id: top, kind: Action, action: sleep, params: {duration: 1ms}}
`
	want := map[string]string{
		"p": "", "i": "p", "c": "i", "c.x": "c", "c.s": "c", "c.y": "c.s", "c.l": "c.s", "c.z": "c.l",
		"w": "p", "r": "w", "h": "w", "top": "",
	}
	for _, noOpt := range []bool{true, false} {
		bp, errs := Compile("t.yaml", []byte(src), Options{NoOpt: noOpt})
		require.Empty(t, errs, "%v", errs)
		require.NoError(t, blueprint.Validate(bp))
		got := map[string]string{}
		for _, n := range bp.Nodes {
			got[n.ID] = ""
			if n.Parent >= 0 {
				got[n.ID] = bp.Nodes[n.Parent].ID
			}
		}
		require.Equal(t, want, got, "no-opt %v", noOpt)
	}
}
