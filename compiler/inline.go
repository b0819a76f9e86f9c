package compiler

import (
	"math"
	"slices"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/dsl"
)

// arm says which part of its parent a node sits in.
type arm uint8

const (
	armTop     arm = iota // the workflow's top-level sequence
	armThen               // If then
	armElse               // If else
	armBranch             // a Parallel branch (armIdx)
	armBody               // a Loop body
	armCall               // the inlined body of a Call
	armCase               // a Switch case (armIdx)
	armDefault            // a Switch default
	armCatch              // an Action's catch block
	armGraph              // a node of a Graph (armIdx: its slot)
	armFinally            // the workflow's finally nodes
)

// inode is a node of the inlined tree: the syntax tree with every Call's
// function body copied under it, ids made unique (CALLID.INNERID), and the
// facts later stages need about where the node sits.
type inode struct {
	n      *dsl.Node
	id     string // full id after inlining
	idx    int32  // node-table index; -1 in a phantom tree
	parent *inode
	arm    arm
	armIdx int
	scope  *fscope // the function instance the node belongs to
	inner  *fscope // for a Call: the instance of its function's body
	loop   *inode  // innermost enclosing Loop, across calls

	// Preorder numbering: the node's subtree is [in, out]; the sequence it
	// belongs to is [seqStart, seqEnd]. See refs.go for their use.
	in, out          int32
	seqStart, seqEnd int32

	then, els []*inode
	branches  [][]*inode
	body      []*inode // Loop body, or a Call's inlined function body
	cases     [][]*inode
	dflt      []*inode
	catch     []*inode
	// graph are a Graph's nodes by slot; gdeps, on a node of a Graph, the
	// slots it depends on; contain says its failure is recorded and
	// passed to the nodes that depend on it rather than failing the run
	// (a dependent's trigger_rule runs after failures).
	graph   []*inode
	gdeps   []int32
	contain bool

	// breakPos is the preorder position right after a node with break_if,
	// where its expression is evaluated; bodyEnd, on a while or until Loop,
	// the position at the end of its body, where the next iteration's head
	// looks back from. brk is the break_if expression, or -1.
	breakPos, bodyEnd int32
	brk               int32

	// Expression indexes into Blueprint.Exprs, set by refs.go; -1 if none.
	params, cond, args, wait int32
	whens                    []int32
	// retryWhen is the retry condition of an Action, or -1.
	retryWhen int32
}

// fscope is one instance of a function body (or the top level): `nodes.X`
// inside it names the node with id prefix+X.
type fscope struct {
	prefix string
	call   *inode // the Call node, nil at the top level
	fn     *dsl.Function
	locals []string // ids written in this instance, for hints
}

// inline builds the inlined tree and the node table. Calls of unknown or recursive functions (already reported) are left
// empty. Functions that are never called are expanded into phantom trees:
// their expressions are checked like any other, but they emit nothing.
func (c *compiler) inline() {
	c.byID = map[string]*inode{}
	c.size = map[string]int{}
	c.sized = map[string]struct{}{}
	c.counter = 0
	// Size the tables once: growing them node by node costs more than the
	// rest of inlining on large workflows.
	n := 0
	walkNodes(slices.Concat(c.wf.Nodes, c.wf.Finally), func(x *dsl.Node) {
		n++
		if x.Kind == "Call" && !c.recursive[x] {
			if _, ok := c.funcs[x.Function]; ok {
				n += c.callSize(x.Function)
			}
		}
	})
	n = min(n, maxNodes+1)
	c.nodes = make([]*inode, 0, n)
	c.bp.Nodes = make([]blueprint.Node, 0, n)
	c.bp.Exprs = make([]blueprint.Expr, 0, n)
	root := &fscope{}
	c.scopes = append(c.scopes, root)
	c.top = c.seq(c.wf.Nodes, nil, armTop, 0, root, nil, false)
	c.fin = c.seq(c.wf.Finally, nil, armFinally, 0, root, nil, false)
	// The finally nodes are numbered before the top level: no node of the
	// top level has certainly finished when they run, and the workflow's
	// output (at the end of the top level) sees none of them.
	c.number(c.fin, -1)
	c.number(c.top, math.MaxInt32)

	called := map[string]bool{}
	var mark func(nodes []*dsl.Node)
	mark = func(nodes []*dsl.Node) {
		walkNodes(nodes, func(n *dsl.Node) {
			if n.Kind != "Call" || called[n.Function] || c.recursive[n] {
				return
			}
			if f, ok := c.funcs[n.Function]; ok {
				called[n.Function] = true
				mark(f.Nodes)
			}
		})
	}
	mark(c.wf.Nodes)
	mark(c.wf.Finally)
	for _, f := range c.wf.Functions {
		if f == nil || c.funcs[f.Name] != f || called[f.Name] {
			continue
		}
		// A phantom instance: its ids live under a prefix no real id can
		// have, so they never collide with the workflow's.
		call := &inode{n: &dsl.Node{Kind: "Call", ID: f.Name, Function: f.Name, Pos: f.Pos}, id: "\x00" + f.Name, idx: -1}
		sc := &fscope{prefix: call.id + ".", call: call, fn: f}
		c.scopes = append(c.scopes, sc)
		call.inner = sc
		body := c.seq(f.Nodes, call, armCall, 0, sc, nil, true)
		call.body = body
		c.number([]*inode{call}, math.MaxInt32)
		c.phantom = append(c.phantom, []*inode{call})
	}
}

// seq inlines one sequence of nodes.
func (c *compiler) seq(nodes []*dsl.Node, parent *inode, a arm, ai int, sc *fscope, loop *inode, phantom bool) []*inode {
	out := make([]*inode, 0, len(nodes))
	for _, n := range nodes {
		if n == nil {
			continue
		}
		out = append(out, c.node(n, parent, a, ai, sc, loop, phantom))
	}
	return out
}

func (c *compiler) node(n *dsl.Node, parent *inode, a arm, ai int, sc *fscope, loop *inode, phantom bool) *inode {
	x := &inode{
		n: n, id: sc.prefix + n.ID, idx: -1, parent: parent, arm: a, armIdx: ai, scope: sc, loop: loop,
		params: -1, cond: -1, args: -1, wait: -1, brk: -1, retryWhen: -1,
	}
	c.made++
	c.define(x, phantom)
	switch n.Kind {
	case "Action":
		x.catch = c.seq(n.Catch, x, armCatch, 0, sc, loop, phantom)
	case "Parallel":
		for i, b := range n.Branches {
			x.branches = append(x.branches, c.seq(b, x, armBranch, i, sc, loop, phantom))
		}
		x.catch = c.seq(n.Catch, x, armCatch, 0, sc, loop, phantom)
	case "If":
		x.then = c.seq(n.Then, x, armThen, 0, sc, loop, phantom)
		x.els = c.seq(n.Else, x, armElse, 0, sc, loop, phantom)
	case "Loop":
		x.body = c.seq(n.Body, x, armBody, 0, sc, x, phantom)
		x.catch = c.seq(n.Catch, x, armCatch, 0, sc, loop, phantom)
	case "Switch":
		for i, cs := range n.Cases {
			var nodes []*dsl.Node
			if cs != nil {
				nodes = cs.Nodes
			}
			x.cases = append(x.cases, c.seq(nodes, x, armCase, i, sc, loop, phantom))
		}
		x.dflt = c.seq(n.Default, x, armDefault, 0, sc, loop, phantom)
	case "Graph":
		for i, m := range n.Graph {
			if m != nil {
				x.graph = append(x.graph, c.node(m, x, armGraph, i, sc, loop, phantom))
			}
		}
		graphDeps(x)
	case "Call":
		f, ok := c.funcs[n.Function]
		if !ok || c.recursive[n] {
			break
		}
		if c.callSize(f.Name)+c.made > maxNodes {
			c.errorf(firstPos(n.FunctionPos, n.Pos), "calling function %q here makes the workflow larger than %d nodes", f.Name, maxNodes)
			break
		}
		inner := &fscope{prefix: x.id + ".", call: x, fn: f}
		c.scopes = append(c.scopes, inner)
		x.inner = inner
		x.body = c.seq(f.Nodes, x, armCall, 0, inner, loop, phantom)
	}
	return x
}

// define enters a node in the id map, in its scope's list of names and,
// unless phantom, in the node table. Duplicate ids were reported by
// checkIDs; the first node with an id keeps it.
func (c *compiler) define(x *inode, phantom bool) {
	n := x.n
	if n.ID != "" {
		if _, dup := c.byID[x.id]; !dup {
			c.byID[x.id] = x
			x.scope.locals = append(x.scope.locals, n.ID)
		}
	}
	if phantom {
		return
	}
	x.idx = int32(len(c.nodes))
	c.nodes = append(c.nodes, x)
	loop := int32(-1)
	if x.loop != nil {
		loop = x.loop.idx
	}
	bn := blueprint.Node{
		ID: x.id, Kind: n.Kind, Name: n.Name, Loop: loop, Parent: compositeParent(x),
		Pos: blueprint.Pos{Line: n.Pos.Line, Col: n.Pos.Col},
	}
	if n.Kind == "Action" {
		bn.Action = n.Action
	}
	if n.Kind == "Loop" && !sequential(n) {
		bn.Var = loopVar(n)
	}
	bn.Trap = collects(n)
	c.bp.Nodes = append(c.bp.Nodes, bn)
}

// compositeParent is the node-table index of the innermost composite node
// around x, or -1. Actions are skipped: a node in a catch block runs after
// its Action has failed, inside whatever holds the Action.
func compositeParent(x *inode) int32 {
	if p := compositeParentNode(x); p != nil {
		return p.idx
	}
	return -1
}

// compositeParentNode is the innermost composite node around x: a node in
// a catch block runs after the node it belongs to has failed, so it sits
// where that node sits, not inside it.
func compositeParentNode(x *inode) *inode {
	p := x.parent
	if x.arm == armCatch && p != nil {
		p = p.parent
	}
	for p != nil && p.n.Kind == "Action" {
		p = p.parent
	}
	return p
}

// inTrap says whether x is inside a Parallel or for_each Loop with
// fail_fast: false, where an unhandled failure ends its branch or
// iteration instead of the run.
func inTrap(x *inode) bool {
	for p := compositeParentNode(x); p != nil; p = compositeParentNode(p) {
		if collects(p.n) {
			return true
		}
	}
	return false
}

// loopVar is the name a for_each loop binds its element to.
func loopVar(n *dsl.Node) string {
	if n.As != "" {
		return n.As
	}
	return "item"
}

// callSize is the number of nodes one call of the function adds, with
// nested calls expanded; it saturates instead of overflowing.
func (c *compiler) callSize(name string) int {
	if s, ok := c.size[name]; ok {
		return s
	}
	if _, busy := c.sized[name]; busy {
		return 0 // recursion, reported by check
	}
	c.sized[name] = struct{}{}
	total := 0
	walkNodes(c.funcs[name].Nodes, func(n *dsl.Node) {
		total++
		if n.Kind == "Call" && !c.recursive[n] {
			if _, ok := c.funcs[n.Function]; ok {
				total += c.callSize(n.Function)
			}
		}
		if total > maxNodes {
			total = maxNodes + 1
		}
	})
	c.size[name] = total
	return total
}

// number assigns preorder intervals. A sequence's elements are contiguous
// in preorder, so "after element e of its sequence" is the interval
// (e.out, e.seqEnd]. The top-level sequence ends at end (beyond every
// node), so the workflow's output sees everything it finishes. Each
// sequence ends with a position no node has, returned, and so does each
// node with break_if: expressions evaluated there (a loop's condition
// looking back at its body, a break_if) are bound as if written there.
func (c *compiler) number(seq []*inode, end int32) int32 {
	if len(seq) == 0 {
		return -1
	}
	start := c.counter
	for _, x := range seq {
		x.in = c.counter
		c.counter++
		for _, kids := range x.children() {
			gap := c.number(kids, -1)
			if x.n.Kind == "Loop" && len(x.body) > 0 && &kids[0] == &x.body[0] {
				x.bodyEnd = gap
			}
		}
		x.out = c.counter - 1
		if x.n.BreakIf != nil {
			x.breakPos = c.counter
			c.counter++
		}
	}
	gap := c.counter
	c.counter++
	if end < 0 {
		end = c.counter - 1
	}
	for _, x := range seq {
		x.seqStart, x.seqEnd = start, end
	}
	return gap
}

// sequential says whether a Loop runs its iterations one after another,
// each seeing the one before: a while or until loop.
func sequential(n *dsl.Node) bool { return n.While != nil || n.LoopUntil != nil }

// children lists the node's sequences in execution order.
func (x *inode) children() [][]*inode {
	var out [][]*inode
	add := func(s []*inode) {
		if len(s) > 0 {
			out = append(out, s)
		}
	}
	add(x.catch)
	for _, b := range x.branches {
		add(b)
	}
	// Each node of a Graph is a sequence of its own: being written after
	// another says nothing of running after it.
	for i := range x.graph {
		add(x.graph[i : i+1])
	}
	add(x.then)
	add(x.els)
	add(x.body)
	for _, cs := range x.cases {
		add(cs)
	}
	add(x.dflt)
	return out
}
