package compiler

import (
	"encoding/json"
	"strconv"

	"github.com/skript-dev/skript/dsl"
)

// Graph is the workflow as its author wrote it, for people: its nodes (not
// the Blueprint's instructions), Parallel branches side by side, Loops,
// Calls and Parallels as groups holding their nodes, and If/Switch
// conditions written on the edges that leave them. Node ids are the ids
// the runtime reports in events and records (a function's nodes are
// CALLID.INNERID), so a UI colours the graph from a run's event stream
// without a mapping.
type Graph struct {
	Workflow string       `json:"workflow"`
	Nodes    []*GraphNode `json:"nodes"`
	Edges    []*GraphEdge `json:"edges"`
}

// GraphNode is one box (or, for a group, one frame around boxes).
type GraphNode struct {
	ID string `json:"id"`
	// Kind is the node's kind (Action, Parallel, If, ...), "Branch" for a
	// Parallel branch, or "Start"/"End" for the two ends of the workflow.
	Kind string `json:"kind"`
	// Label is what to write in the box: the id as written (without a
	// function call's prefix), or the node's name when it has one.
	Label string `json:"label"`
	// Parent is the id of the group the node is drawn in ("" at the top).
	Parent string `json:"parent,omitempty"`
	// Group is set on nodes drawn as a frame around their children.
	Group bool `json:"group,omitempty"`
	// Detail is a short description: the action, the loop's for_each or
	// while, the function called, the wait.
	Detail string `json:"detail,omitempty"`
	Line   int    `json:"line,omitempty"`
	Col    int    `json:"col,omitempty"`
}

// GraphEdge is one arrow; Label holds the condition taken (If, Switch) or
// "on error" into a catch block.
type GraphEdge struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Label string `json:"label,omitempty"`
}

// Ids of the two ends; no written id can hold parentheses.
const (
	GraphStart = "(start)"
	GraphEnd   = "(end)"
)

// BuildGraph parses src and returns its workflow-level graph. It draws as
// much as it can read: a workflow that parses but does not compile (an
// unknown action, a bad reference) still gets its graph, so an editor's
// preview keeps up while its author types; errs holds the parse errors,
// and the graph is nil only when nothing could be read.
func BuildGraph(file string, src []byte) (*Graph, dsl.ErrorList) {
	wf, errs := dsl.Parse(file, src)
	if wf == nil {
		return nil, errs
	}
	return GraphOf(wf), errs
}

// GraphOf returns the graph of a parsed workflow.
func GraphOf(wf *dsl.Workflow) *Graph {
	b := &graphBuilder{g: &Graph{Workflow: wf.Name, Nodes: []*GraphNode{}, Edges: []*GraphEdge{}},
		funcs: map[string]*dsl.Function{}, seen: map[string]bool{}}
	for _, f := range wf.Functions {
		if f != nil {
			if _, dup := b.funcs[f.Name]; !dup {
				b.funcs[f.Name] = f
			}
		}
	}
	b.add(&GraphNode{ID: GraphStart, Kind: "Start", Label: "start"})
	exits := b.seq(wf.Nodes, "", "", []exit{{id: GraphStart}}, nil)
	b.add(&GraphNode{ID: GraphEnd, Kind: "End", Label: "end"})
	b.connect(exits, GraphEnd)
	return b.g
}

// exit is a node whose flow goes on to whatever follows it, with the label
// of the arrow to draw (an If without else leaves with "else").
type exit struct {
	id    string
	label string
}

type graphBuilder struct {
	g     *Graph
	funcs map[string]*dsl.Function
	seen  map[string]bool
	// calls are the functions being drawn, to stop at a recursive call
	// (which the compiler rejects) instead of drawing forever.
	calls []string
}

func (b *graphBuilder) add(n *GraphNode) {
	b.g.Nodes = append(b.g.Nodes, n)
	b.seen[n.ID] = true
}

func (b *graphBuilder) connect(from []exit, to string) {
	for _, e := range from {
		b.g.Edges = append(b.g.Edges, &GraphEdge{From: e.id, To: to, Label: e.label})
	}
}

// seq draws a sequence inside group parent, its ids under prefix, entered
// from the exits in. A non-empty first label is written on the arrow into
// the first node (a branch's condition); with no nodes, in are returned
// with that label. It returns the sequence's exits.
func (b *graphBuilder) seq(nodes []*dsl.Node, parent, prefix string, in []exit, label *string) []exit {
	cur := in
	first := true
	for _, n := range nodes {
		if n == nil {
			continue
		}
		if first && label != nil {
			cur = relabel(cur, *label)
		}
		first = false
		cur = b.node(n, parent, prefix, cur)
	}
	if first && label != nil {
		return relabel(cur, *label)
	}
	return cur
}

func relabel(in []exit, label string) []exit {
	out := make([]exit, len(in))
	for i, e := range in {
		out[i] = exit{id: e.id, label: joinLabel(e.label, label)}
	}
	return out
}

func joinLabel(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " / " + b
}

// node draws one node entered from in, and returns its exits.
func (b *graphBuilder) node(n *dsl.Node, parent, prefix string, in []exit) []exit {
	id := prefix + n.ID
	if id == prefix || b.seen[id] {
		// A missing or repeated id (already reported by the parser or
		// the compiler): give the box an id of its own position.
		id = prefix + "#" + itoa(n.Pos.Line) + ":" + itoa(n.Pos.Col)
	}
	label := n.ID
	if n.Name != "" {
		label = n.Name
	}
	gn := &GraphNode{ID: id, Kind: n.Kind, Label: label, Parent: parent, Line: n.Pos.Line, Col: n.Pos.Col}
	b.add(gn)
	b.connect(in, id)
	switch n.Kind {
	case "Action":
		gn.Detail = n.Action
		if n.HasCatch && len(n.Catch) > 0 {
			onErr := "on error"
			out := b.seq(n.Catch, parent, prefix, []exit{{id: id}}, &onErr)
			return append([]exit{{id: id}}, out...)
		}
	case "Parallel":
		gn.Group = true
		if n.Mode == "first" {
			gn.Detail = "race: the first to succeed wins"
		}
		for i, br := range n.Branches {
			bid := id + "[" + itoa(i) + "]"
			b.add(&GraphNode{ID: bid, Kind: "Branch", Label: "branch " + itoa(i+1), Parent: id, Group: true})
			b.seq(br, bid, prefix, nil, nil)
		}
	case "Loop":
		gn.Group = true
		switch {
		case n.ForEach != nil:
			gn.Detail = "for each " + valueText(n.ForEach)
		case n.While != nil:
			gn.Detail = "while " + valueText(n.While)
		case n.LoopUntil != nil:
			gn.Detail = "until " + valueText(n.LoopUntil)
		}
		b.seq(n.Body, id, prefix, nil, nil)
	case "Call":
		gn.Group = true
		gn.Detail = n.Function + "()"
		if f, ok := b.funcs[n.Function]; ok && !contains(b.calls, n.Function) {
			b.calls = append(b.calls, n.Function)
			b.seq(f.Nodes, id, id+".", nil, nil)
			b.calls = b.calls[:len(b.calls)-1]
		}
	case "If":
		cond := valueText(n.Condition)
		var out []exit
		out = append(out, b.seq(n.Then, parent, prefix, []exit{{id: id}}, &cond)...)
		els := "else"
		out = append(out, b.seq(n.Else, parent, prefix, []exit{{id: id}}, &els)...)
		return out
	case "Switch":
		var out []exit
		for _, c := range n.Cases {
			if c == nil {
				continue
			}
			when := valueText(c.When)
			out = append(out, b.seq(c.Nodes, parent, prefix, []exit{{id: id}}, &when)...)
		}
		dflt := "default"
		return append(out, b.seq(n.Default, parent, prefix, []exit{{id: id}}, &dflt)...)
	case "Graph":
		gn.Group = true
		b.dag(n, id, prefix)
	case "Wait":
		switch {
		case n.Duration != nil:
			gn.Detail = "for " + valueText(n.Duration)
		case n.Until != nil:
			gn.Detail = "until " + valueText(n.Until)
		}
	}
	if n.BreakIf != nil {
		gn.Detail = joinLabel(gn.Detail, "break if "+valueText(n.BreakIf))
	}
	return []exit{{id: id}}
}

// dag draws a Graph node's nodes inside it, with an arrow from each
// dependency, labelled with the trigger rule when it is not the default.
func (b *graphBuilder) dag(g *dsl.Node, id, prefix string) {
	drawn := map[string]string{}
	for _, n := range g.Graph {
		if n == nil {
			continue
		}
		before := len(b.g.Nodes)
		b.node(n, id, prefix, nil)
		if n.ID != "" {
			if _, dup := drawn[n.ID]; !dup {
				drawn[n.ID] = b.g.Nodes[before].ID
			}
		}
	}
	for _, n := range g.Graph {
		if n == nil || drawn[n.ID] == "" {
			continue
		}
		rule := n.TriggerRule
		if rule == dsl.AllSucceeded {
			rule = ""
		}
		for _, d := range n.Depends {
			if from, ok := drawn[d]; ok {
				b.g.Edges = append(b.g.Edges, &GraphEdge{From: from, To: drawn[n.ID], Label: rule})
			}
		}
	}
}

// valueText is a condition or expression as written, shortened for a label.
func valueText(v *dsl.Value) string {
	if v == nil {
		return ""
	}
	var s string
	if v.Kind == dsl.String {
		s = v.Str
	} else {
		data, _ := json.Marshal(v.Go()) // plain data always encodes
		s = string(data)
	}
	const max = 60
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func itoa(i int) string { return strconv.Itoa(i) }
