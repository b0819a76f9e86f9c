package dsl

import (
	"fmt"
	"strings"
	"testing"
)

// bigWorkflow writes a workflow of n nodes in the style people write:
// block mappings, a Parallel every 50 nodes, an If every 100, params with
// templates. 10,000 nodes come to about 1 MB.
func bigWorkflow(n int) []byte {
	var b strings.Builder
	b.WriteString("name: big\nversion: 1\ninputs:\n  who: {type: string, default: world}\ndefaults:\n  timeout: 30s\n  retry: {max_attempts: 3, initial_interval: 200ms, backoff: 2.0}\nnodes:\n")
	for i := 0; i < n; {
		switch {
		case i%100 == 99 && i+2 < n:
			fmt.Fprintf(&b, "  - id: gate_%d\n    kind: If\n    condition: nodes.step_%d.output.n > 3\n    then:\n      - {id: yes_%d, kind: Action, action: log, params: {msg: \"big ${{ input.who }}\"}}\n    else:\n      - {id: no_%d, kind: Action, action: noop}\n", i, i-1, i+1, i+2)
			i += 3
		case i%50 == 49 && i+2 < n:
			fmt.Fprintf(&b, "  - id: par_%d\n    kind: Parallel\n    branches:\n      - - {id: left_%d, kind: Action, action: sleep, params: {duration: 10ms}}\n      - - {id: right_%d, kind: Action, action: set, params: {v: \"${{ index }}\"}}\n", i, i+1, i+2)
			i += 3
		default:
			fmt.Fprintf(&b, "  - id: step_%d\n    kind: Action\n    action: set\n    timeout: 5s\n    params:\n      n: %d\n      msg: \"hello ${{ input.who }}, step %d\"\n", i, i, i)
			i++
		}
	}
	b.WriteString("output: \"${{ nodes.step_0.output }}\"\n")
	return []byte(b.String())
}

func TestBigWorkflow(t *testing.T) {
	src := bigWorkflow(10_000)
	w := mustParse(t, string(src))
	count := 0
	var walk func([]*Node)
	walk = func(ns []*Node) {
		for _, n := range ns {
			count++
			walk(n.Then)
			walk(n.Else)
			for _, b := range n.Branches {
				walk(b)
			}
		}
	}
	walk(w.Nodes)
	if count != 10_000 {
		t.Fatalf("%d nodes", count)
	}
}

// BenchmarkParse measures a 10,000-node workflow of about 1 MB; most of
// the time is goccy's lexer and parser (BenchmarkParseGoccy measures them
// alone).
func BenchmarkParse(b *testing.B) {
	src := bigWorkflow(10_000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := Parse("big.yaml", src); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

func BenchmarkParseGoccy(b *testing.B) {
	src := bigWorkflow(10_000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := goccyParse(src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConvertAndDecode measures this package's own share of a parse:
// goccy's tree to Values to the syntax tree, on the same workflow.
func BenchmarkConvertAndDecode(b *testing.B) {
	src := bigWorkflow(10_000)
	f, _, err := goccyParse(src)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		var errs ErrorList
		c := &converter{file: "big.yaml", errs: &errs, maxNodes: DefaultMaxNodes, anchors: map[string]anchorInfo{}}
		root := c.run(f.Docs[0].Body)
		d := &decoder{file: "big.yaml", errs: &errs}
		d.workflow(root)
		if len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
