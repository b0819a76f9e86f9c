package compiler

import (
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/dsl"
)

// lowerGraph emits a Graph:
//
//	Graph{[E0 E1 …], needs → X}
//	E_i: Trigger rule (deps) → D_i    (when node i depends on others)
//	     node i…
//	D_i: Signal [dependents]          (when others depend on node i)
//	     Join
//	X:   Check (contained failures)   (when a failure can be left unhandled)
//
// Node i starts once each node it depends on has signalled it, so the
// runtime runs every node whose dependencies allow at once, whatever the
// shape of the DAG. A node whose rule does not hold is recorded skipped and
// still signals, so the nodes after it decide in turn.
func (c *compiler) lowerGraph(x *inode) {
	g := blueprint.Instr{Op: blueprint.OpGraph, Node: x.idx, Expr: -1}
	at := c.emit(g)
	n := len(x.graph)
	targets := make([]int32, n)
	needs := make([]int32, n)
	signals := make([][]blueprint.Signal, n)
	for i, m := range x.graph {
		for k, j := range m.gdeps {
			signals[j] = append(signals[j], blueprint.Signal{Slot: int32(i), At: int32(k)})
		}
	}
	var unhandled []int32
	for i, m := range x.graph {
		targets[i] = c.pc()
		needs[i] = int32(len(m.gdeps))
		trig := int32(-1)
		if len(m.gdeps) > 0 {
			deps := make([]int32, len(m.gdeps))
			for k, j := range m.gdeps {
				deps[k] = x.graph[j].idx
			}
			rule := m.n.TriggerRule
			if rule == "" {
				rule = dsl.AllSucceeded
			}
			trig = c.emit(blueprint.Instr{Op: blueprint.OpTrigger, Node: m.idx, Expr: -1, Rule: rule, Deps: deps})
		}
		c.lowerNode(m)
		if trig >= 0 {
			c.bp.Code[trig].Target = c.pc()
		}
		if len(signals[i]) > 0 {
			c.emit(blueprint.Instr{Op: blueprint.OpSignal, Node: m.idx, Expr: -1, Signals: signals[i]})
		}
		c.emit(blueprint.Instr{Op: blueprint.OpJoin, Node: x.idx, Expr: -1})
		if m.contain && !x.handledBy(int32(i)) {
			unhandled = append(unhandled, m.idx)
		}
	}
	c.bp.Code[at].Targets, c.bp.Code[at].Needs, c.bp.Code[at].Target = targets, needs, c.pc()
	if len(unhandled) > 0 {
		c.emit(blueprint.Instr{Op: blueprint.OpCheck, Node: x.idx, Expr: -1, Deps: unhandled})
	}
}
