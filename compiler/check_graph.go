package compiler

import (
	"fmt"
	"strings"

	"github.com/skript-dev/skript/dsl"
)

// This file checks Graph nodes: what their nodes depend on, and that the
// dependencies form no cycle. A cycle is reported once, as the chain of its
// edges, each at the position of the id that makes it, so the user sees
// which `depends` entry to remove.

// checkPlacement refuses depends and trigger_rule on a node that is not
// directly in a Graph's list: there is nothing there for them to order;
// and break_if on a node not directly in the body of a while or until
// Loop, the loops whose iterations run one after another.
func (c *compiler) checkPlacement() {
	inGraph := map[*dsl.Node]bool{}
	all := func(nodes []*dsl.Node) {
		walkNodes(nodes, func(n *dsl.Node) {
			for _, m := range n.Graph {
				inGraph[m] = true
			}
		})
	}
	all(c.wf.Nodes)
	all(c.wf.Finally)
	for _, f := range c.wf.Functions {
		if f != nil {
			all(f.Nodes)
		}
	}
	inLoop := map[*dsl.Node]bool{} // true: a while or until body; false: a for_each body
	all = func(nodes []*dsl.Node) {
		walkNodes(nodes, func(n *dsl.Node) {
			if n.Kind == "Loop" {
				for _, m := range n.Body {
					inLoop[m] = sequential(n)
				}
			}
		})
	}
	all(c.wf.Nodes)
	all(c.wf.Finally)
	for _, f := range c.wf.Functions {
		if f != nil {
			all(f.Nodes)
		}
	}
	check := func(nodes []*dsl.Node) {
		walkNodes(nodes, func(n *dsl.Node) {
			if p, ok := n.FieldPos["break_if"]; ok && !inLoop[n] {
				msg := "break_if only applies to a node directly in the body of a while or until Loop"
				if seq, ok := inLoop[n]; ok && !seq {
					msg += "; a for_each Loop ends with its list (filter the list instead)"
				}
				c.errorf(p, "%s", msg)
			}
			if inGraph[n] {
				return
			}
			for _, field := range []string{"depends", "trigger_rule"} {
				if p, ok := n.FieldPos[field]; ok {
					c.errorf(p, "%s only applies to a node directly in the graph list of a Graph node", field)
				}
			}
		})
	}
	check(c.wf.Nodes)
	check(c.wf.Finally)
	for _, f := range c.wf.Functions {
		if f != nil && c.funcs[f.Name] == f {
			check(f.Nodes)
		}
	}
}

// checkGraph checks the dependencies of a Graph's nodes: each names another
// node of the same Graph, once, and they form no cycle.
func (c *compiler) checkGraph(g *dsl.Node) {
	if len(g.Graph) == 0 {
		c.errorf(fieldPos(g, "graph"), "Graph needs at least one node")
		return
	}
	if len(g.Graph) > MaxParallelBranches {
		c.errorf(fieldPos(g, "graph"), "Graph has %d nodes; the limit is %d", len(g.Graph), MaxParallelBranches)
		return
	}
	slot := map[string]int{}
	var ids []string
	for i, m := range g.Graph {
		if m != nil && m.ID != "" {
			if _, dup := slot[m.ID]; !dup {
				slot[m.ID] = i
				ids = append(ids, m.ID)
			}
		}
	}
	everywhere := map[string]bool{}
	walkNodes(c.wf.Nodes, func(n *dsl.Node) { everywhere[n.ID] = true })
	walkNodes(c.wf.Finally, func(n *dsl.Node) { everywhere[n.ID] = true })
	deps := make([][]edge, len(g.Graph))
	for i, m := range g.Graph {
		if m == nil {
			continue
		}
		seen := map[string]bool{}
		for k, d := range m.Depends {
			pos := firstPos(m.DependsPos[k], m.FieldPos["depends"], m.Pos)
			j, ok := slot[d]
			switch {
			case d == m.ID:
				c.errorf(pos, "node %q depends on itself", d)
			case seen[d]:
				c.errorf(pos, "%q is listed twice in depends", d)
			case !ok:
				msg := fmt.Sprintf("unknown node %q in depends%s", d, dsl.Hint(d, ids))
				if everywhere[d] {
					msg += fmt.Sprintf("; depends names the nodes of the same Graph (%q is not one of them)", d)
				}
				c.errorf(pos, "%s", msg)
			default:
				deps[i] = append(deps[i], edge{to: j, pos: pos})
			}
			seen[d] = true
		}
		if m.TriggerRule != "" && len(m.Depends) == 0 {
			c.errorf(firstPos(m.TriggerRulePos, m.FieldPos["trigger_rule"]),
				"trigger_rule needs depends: a node that depends on nothing always runs")
		}
	}
	c.checkCycles(g, deps)
}

// edge is one `depends` entry: the node depending on slot to, written at pos.
type edge struct {
	to  int
	pos dsl.Pos
}

// checkCycles reports each cycle of a Graph's dependencies once.
func (c *compiler) checkCycles(g *dsl.Node, deps [][]edge) {
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(deps))
	var stack []int // the slots on the current path
	var via []edge  // via[k] leads from stack[k] to stack[k+1]
	reported := map[int]bool{}
	var visit func(i int)
	visit = func(i int) {
		color[i] = grey
		stack = append(stack, i)
		for _, e := range deps[i] {
			switch color[e.to] {
			case white:
				via = append(via, e)
				visit(e.to)
				via = via[:len(via)-1]
			case grey:
				// The path from e.to to i, closed by e, is a cycle.
				at := 0
				for stack[at] != e.to {
					at++
				}
				if reported[e.to] {
					continue
				}
				cyc := append(append([]edge(nil), via[at:]...), e)
				from := stack[at:]
				for _, s := range from {
					reported[s] = true
				}
				c.reportCycle(g, from, cyc)
			}
		}
		stack = stack[:len(stack)-1]
		color[i] = black
	}
	for i := range deps {
		if color[i] == white {
			visit(i)
		}
	}
}

// reportCycle words a cycle: from[k] depends on the target of cyc[k].
func (c *compiler) reportCycle(g *dsl.Node, from []int, cyc []edge) {
	parts := make([]string, len(cyc))
	for k, e := range cyc {
		parts[k] = fmt.Sprintf("%q depends on %q (%d:%d)", g.Graph[from[k]].ID, g.Graph[e.to].ID, e.pos.Line, e.pos.Col)
	}
	c.errorf(cyc[0].pos, "dependency cycle in Graph %q: %s; a Graph runs each node after the nodes it depends on, so a cycle never starts",
		g.ID, strings.Join(parts, ", "))
}

// graphDeps resolves the dependencies of a Graph's nodes to slots. Unknown
// ids were reported by checkGraph and are left out.
func graphDeps(g *inode) {
	slot := map[string]int32{}
	for i, m := range g.graph {
		if _, dup := slot[m.n.ID]; !dup {
			slot[m.n.ID] = int32(i)
		}
	}
	for _, m := range g.graph {
		for _, d := range m.n.Depends {
			if j, ok := slot[d]; ok && m.n.ID != d && !containsSlot(m.gdeps, j) {
				m.gdeps = append(m.gdeps, j)
			}
		}
	}
	// A failure that a dependent runs after (all_done, any_failed) is
	// recorded rather than failing the run, when the node is an Action
	// that does not handle it itself.
	for _, m := range g.graph {
		r := m.n.TriggerRule
		if r != dsl.AllDone && r != dsl.AnyFailed {
			continue
		}
		for _, j := range m.gdeps {
			if d := g.graph[j]; d.n.Kind == "Action" && !d.n.HasCatch && d.n.OnError == "" {
				d.contain = true
			}
		}
	}
}

func containsSlot(s []int32, j int32) bool {
	for _, x := range s {
		if x == j {
			return true
		}
	}
	return false
}

// reaches reports whether, in Graph x, the node of slot from depends, directly or
// through others, on the node of slot to.
func (x *inode) reaches(from, to int32) bool {
	seen := make([]bool, len(x.graph))
	work := []int32{from}
	for len(work) > 0 {
		i := work[len(work)-1]
		work = work[:len(work)-1]
		for _, j := range x.graph[i].gdeps {
			if j == to {
				return true
			}
			if !seen[j] {
				seen[j] = true
				work = append(work, j)
			}
		}
	}
	return false
}

// graphElem returns the node of Graph x whose subtree holds preorder
// position p, or nil.
func (x *inode) graphElem(p int32) *inode {
	for _, m := range x.graph {
		if m.in <= p && p <= m.out {
			return m
		}
	}
	return nil
}

// handledBy reports whether a failure of slot i of Graph x is handled: a
// node depending on it runs on failures and does not fail the Graph for
// them (any_failed).
func (x *inode) handledBy(i int32) bool {
	for _, m := range x.graph {
		if m.n.TriggerRule == dsl.AnyFailed && containsSlot(m.gdeps, i) {
			return true
		}
	}
	return false
}
