package compiler

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/dsl"
	skexpr "github.com/skript-dev/skript/expr"
)

// genWorkflow writes a workflow of about n nodes: blocks of an Action with
// templates reading earlier nodes, an If with two arms, a Parallel with
// three branches and a for_each Loop, repeated.
func genWorkflow(n int) []byte {
	var b strings.Builder
	b.WriteString("name: big\ninputs:\n  k: {type: integer, default: 2}\nnodes:\n")
	count, block := 0, 0
	prev := ""
	for count < n {
		p := fmt.Sprintf("b%d_", block)
		ref := "input.k"
		if prev != "" {
			ref = "nodes." + prev + ".output.v"
		}
		fmt.Fprintf(&b, "  - {id: %sa, kind: Action, action: set, params: {v: \"${{ %s + 1 }}\", msg: \"block %d: ${{ %s }}\"}}\n", p, ref, block, ref)
		fmt.Fprintf(&b, "  - id: %sif\n    kind: If\n    condition: nodes.%sa.output.v > 3\n    then:\n", p, p)
		fmt.Fprintf(&b, "      - {id: %sthen, kind: Action, action: log, params: {msg: \"${{ nodes.%sa.output.msg }}\"}}\n", p, p)
		fmt.Fprintf(&b, "    else:\n      - {id: %selse, kind: Action, action: noop}\n", p)
		fmt.Fprintf(&b, "  - id: %spar\n    kind: Parallel\n    branches:\n", p)
		for i := 0; i < 3; i++ {
			fmt.Fprintf(&b, "      - - {id: %sbr%d, kind: Action, action: set, params: {i: %d, v: \"${{ nodes.%sa.output.v * %d }}\"}}\n", p, i, i, p, i)
		}
		fmt.Fprintf(&b, "  - id: %sloop\n    kind: Loop\n    for_each: nodes.%spar.output\n    as: r\n    concurrency: 4\n    body:\n", p, p)
		fmt.Fprintf(&b, "      - {id: %sbody, kind: Action, action: set, params: {v: \"${{ r.v + index }}\"}}\n", p)
		fmt.Fprintf(&b, "  - {id: %sz, kind: Action, action: set, params: {v: \"${{ len(nodes.%sloop.output) + nodes.%sbr2.output.v }}\"}}\n", p, p, p)
		prev = p + "z"
		count += 11
		block++
	}
	fmt.Fprintf(&b, "output: \"${{ nodes.%s.output }}\"\n", prev)
	return []byte(b.String())
}

func TestGeneratedWorkflowCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a 10,000-node workflow")
	}
	src := genWorkflow(10000)
	bp, errs := Compile("big.yaml", src, Options{})
	require.Empty(t, errs, "%v", errs)
	require.GreaterOrEqual(t, len(bp.Nodes), 10000)
}

// BenchmarkCompile compiles a generated workflow of 10,000 nodes, parse to
// sealed Blueprint, optimizer included.
func BenchmarkCompile(b *testing.B) {
	src := genWorkflow(10000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := Compile("big.yaml", src, Options{}); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

// BenchmarkCompileNoOpt is the same without the optimizer, to tell the
// front end's cost from the passes'.
func BenchmarkCompileNoOpt(b *testing.B) {
	src := genWorkflow(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := Compile("big.yaml", src, Options{NoOpt: true}); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

// BenchmarkCompileParsed times the compiler proper (check, inline, refs,
// lower, optimize, prune, seal) on an already parsed 10,000-node workflow:
// the YAML parse is the dsl package's and dominates BenchmarkCompile.
func BenchmarkCompileParsed(b *testing.B) {
	src := genWorkflow(10000)
	wf, perrs := dsl.Parse("big.yaml", src)
	if len(perrs) > 0 {
		b.Fatal(perrs)
	}
	reg := action.Builtins()
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := compile("big.yaml", src, wf, nil, reg, Options{}); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

// BenchmarkParse is the YAML parse alone, for comparison.
func BenchmarkParse(b *testing.B) {
	src := genWorkflow(10000)
	b.ReportAllocs()
	for b.Loop() {
		dsl.Parse("big.yaml", src)
	}
}

// BenchmarkCheckAndBind times check, inline and refs alone (expressions
// translated and bound, the must-have-finished analysis) on the parsed
// 10,000-node workflow.
func BenchmarkCheckAndBind(b *testing.B) {
	src := genWorkflow(10000)
	wf, perrs := dsl.Parse("big.yaml", src)
	if len(perrs) > 0 {
		b.Fatal(perrs)
	}
	reg := action.Builtins()
	b.ReportAllocs()
	for b.Loop() {
		var errs dsl.ErrorList
		c := &compiler{file: "big.yaml", wf: wf, reg: reg, errs: &errs,
			tr: skexpr.NewTranslator("big.yaml", src), bp: &blueprint.Blueprint{Output: -1}}
		c.check()
		c.inline()
		c.refs()
		if len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

// genChain is a workflow of n Actions in a row, which fusion makes one Task.
func genChain(n int) []byte {
	var b strings.Builder
	b.WriteString("name: chain\nnodes:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {id: a%d, kind: Action, action: noop}\n", i)
	}
	return []byte(b.String())
}

// genWide is a workflow of one Parallel with n one-Action branches.
func genWide(n int) []byte {
	var b strings.Builder
	b.WriteString("name: wide\nnodes:\n  - id: p\n    kind: Parallel\n    branches:\n")
	for i := range n {
		fmt.Fprintf(&b, "      - [{id: b%d, kind: Action, action: noop}]\n", i)
	}
	return []byte(b.String())
}

// BenchmarkCompileLongChain compiles 10,000 Actions in a row: fusion must
// stay linear in the chain's length.
func BenchmarkCompileLongChain(b *testing.B) {
	src := genChain(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := Compile("chain.yaml", src, Options{}); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

// BenchmarkCompileWideParallel compiles one Parallel of 10,000 branches.
func BenchmarkCompileWideParallel(b *testing.B) {
	src := genWide(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := Compile("wide.yaml", src, Options{}); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
