package compiler_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/skript-dev/skript/compiler"
)

const graphSrc = `name: g
functions:
  notify:
    params: [text]
    nodes:
      - {id: send, kind: Action, action: log, params: {msg: "${{ params.text }}"}}
nodes:
  - id: both
    kind: Parallel
    branches:
      - - {id: a, kind: Action, action: set, params: {v: 1}}
        - {id: b, kind: Action, action: set, params: {v: 2}}
      - - {id: c, kind: Action, action: set, params: {v: 3}}
  - id: check
    kind: If
    condition: nodes.c.output.v > 2
    then:
      - {id: tell, kind: Call, function: notify, args: {text: hi}}
  - id: pick
    kind: Switch
    cases:
      - when: nodes.a.output.v == 1
        nodes:
          - {id: one, kind: Action, action: log, params: {msg: one}}
    default:
      - {id: other, kind: Action, action: log, params: {msg: other}}
  - id: each
    kind: Loop
    for_each: "[1, 2]"
    body:
      - {id: step, kind: Action, action: fail, params: {message: x}, catch: [{id: save, kind: Action, action: log, params: {msg: saved}}]}
`

func TestGraphIsTheWorkflowAsWritten(t *testing.T) {
	g, errs := compiler.BuildGraph("g.yaml", []byte(graphSrc))
	if len(errs) > 0 || g == nil {
		t.Fatalf("errors: %v", errs)
	}
	parent := map[string]string{}
	for _, n := range g.Nodes {
		parent[n.ID] = n.Parent
	}
	for id, want := range map[string]string{
		"both": "", "both[0]": "both", "both[1]": "both", "a": "both[0]", "b": "both[0]", "c": "both[1]",
		"check": "", "tell": "", "tell.send": "tell", "each": "", "step": "each", "save": "each",
	} {
		got, ok := parent[id]
		if !ok || got != want {
			t.Errorf("node %q: parent %q (present %v), want %q", id, got, ok, want)
		}
	}
	var edges []string
	for _, e := range g.Edges {
		edges = append(edges, e.From+">"+e.To+":"+e.Label)
	}
	for _, want := range []string{
		"(start)>both:", "a>b:", "both>check:", "check>tell:nodes.c.output.v > 2", "check>pick:else", "tell>pick:",
		"pick>one:nodes.a.output.v == 1", "pick>other:default", "one>each:", "other>each:",
		"step>save:on error", "each>(end):",
	} {
		if !slices.Contains(edges, want) {
			t.Errorf("no edge %s in %v", want, edges)
		}
	}
	for _, pic := range []string{g.Dot(), g.Mermaid()} {
		for _, id := range []string{"both", "tell", "send", "nodes.c.output.v"} {
			if !strings.Contains(pic, id) {
				t.Errorf("picture lacks %q:\n%s", id, pic)
			}
		}
	}
}

func TestGraphOfABrokenWorkflow(t *testing.T) {
	// Parses but does not compile (unknown action): still drawn.
	g, errs := compiler.BuildGraph("g.yaml", []byte("name: x\nnodes:\n  - {id: a, kind: Action, action: nope}\n"))
	if g == nil || len(g.Nodes) != 3 {
		t.Fatalf("graph %+v, errs %v", g, errs)
	}
	if g, _ := compiler.BuildGraph("g.yaml", []byte("{")); g != nil && len(g.Nodes) > 2 {
		t.Fatalf("graph of garbage: %+v", g)
	}
}

func TestGraphOfADependencyGraph(t *testing.T) {
	src := `name: dag
nodes:
  - id: g
    kind: Graph
    graph:
      - {id: a, kind: Action, action: set, params: {v: 1}}
      - {id: b, kind: Action, action: set, params: {v: 2}, depends: a}
      - {id: c, kind: Action, action: log, params: {msg: x}, depends: [a, b], trigger_rule: all_done}
  - id: poll
    kind: Loop
    until: nodes.p.output.v > 1
    body:
      - {id: p, kind: Action, action: set, params: {v: 2}}
`
	g, errs := compiler.BuildGraph("dag.yaml", []byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var edges []string
	for _, e := range g.Edges {
		edges = append(edges, e.From+">"+e.To+":"+e.Label)
	}
	for _, want := range []string{"a>b:", "a>c:all_done", "b>c:all_done", "g>poll:"} {
		if !slices.Contains(edges, want) {
			t.Errorf("no edge %s in %v", want, edges)
		}
	}
	for _, n := range g.Nodes {
		if n.ID == "poll" && n.Detail != "until nodes.p.output.v > 1" {
			t.Errorf("poll: detail %q", n.Detail)
		}
		if (n.ID == "a" || n.ID == "c") && n.Parent != "g" {
			t.Errorf("%s: parent %q", n.ID, n.Parent)
		}
	}
}
