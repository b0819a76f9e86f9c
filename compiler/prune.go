package compiler

import "github.com/skript-dev/skript/blueprint"

// pruneNodes drops the expressions and node-table entries that no remaining
// code uses, after the optimizer removed dead code, and renumbers every
// index. A node stays when an instruction or step names it, when a live
// expression reads it (its record may simply be absent at run time), or
// when it is the enclosing loop of a node that stays (the runtime needs the
// loop to find a node's frame). Kept entries keep their relative order, so
// the table still reads in source order.
func pruneNodes(bp *blueprint.Blueprint) {
	liveExpr := make([]bool, len(bp.Exprs))
	markExpr := func(i int32) {
		if i >= 0 && int(i) < len(liveExpr) {
			liveExpr[i] = true
		}
	}
	markExpr(bp.Output)
	for i := range bp.Code {
		in := &bp.Code[i]
		markExpr(in.Expr)
		for _, s := range in.Steps {
			markExpr(s.Params)
		}
	}

	liveNode := make([]bool, len(bp.Nodes))
	markNode := func(i int32) {
		for i >= 0 && int(i) < len(liveNode) && !liveNode[i] {
			liveNode[i] = true
			i = bp.Nodes[i].Loop
		}
	}
	for i := range bp.Code {
		in := &bp.Code[i]
		markNode(in.Node)
		for _, s := range in.Steps {
			markNode(s.Node)
		}
		for _, d := range in.Deps {
			markNode(d)
		}
	}
	for i, e := range bp.Exprs {
		if !liveExpr[i] {
			continue
		}
		for _, r := range e.Refs {
			markNode(r.Node)
		}
		for _, v := range e.Vars {
			if v.Kind != blueprint.VarInput && v.Kind != blueprint.VarRun {
				markNode(v.Node)
			}
		}
	}

	exprMap := renumber(liveExpr)
	nodeMap := renumber(liveNode)
	mapIdx := func(m []int32, i int32) int32 {
		if i < 0 || int(i) >= len(m) {
			return i
		}
		return m[i]
	}

	// A node's parent that goes is replaced by its nearest ancestor that
	// stays, found before the table is renumbered.
	parents := make([]int32, len(bp.Nodes))
	for i, n := range bp.Nodes {
		p := n.Parent
		for steps := 0; p >= 0 && int(p) < len(bp.Nodes) && !liveNode[p] && steps < len(bp.Nodes); steps++ {
			p = bp.Nodes[p].Parent
		}
		if p >= 0 && (int(p) >= len(bp.Nodes) || !liveNode[p]) {
			p = -1
		}
		parents[i] = p
	}
	nodes := bp.Nodes[:0]
	for i, n := range bp.Nodes {
		if liveNode[i] {
			n.Loop = mapIdx(nodeMap, n.Loop)
			n.Parent = mapIdx(nodeMap, parents[i])
			nodes = append(nodes, n)
		}
	}
	bp.Nodes = nodes

	exprs := bp.Exprs[:0]
	for i, e := range bp.Exprs {
		if !liveExpr[i] {
			continue
		}
		// Copy the slices: the optimizer may share them between tables.
		if len(e.Refs) > 0 {
			refs := make([]blueprint.Ref, len(e.Refs))
			for j, r := range e.Refs {
				r.Node = mapIdx(nodeMap, r.Node)
				refs[j] = r
			}
			e.Refs = refs
		}
		if len(e.Vars) > 0 {
			vars := make([]blueprint.Var, len(e.Vars))
			for j, v := range e.Vars {
				if v.Kind != blueprint.VarInput && v.Kind != blueprint.VarRun {
					v.Node = mapIdx(nodeMap, v.Node)
				}
				vars[j] = v
			}
			e.Vars = vars
		}
		exprs = append(exprs, e)
	}
	bp.Exprs = exprs

	bp.Output = mapIdx(exprMap, bp.Output)
	for i := range bp.Code {
		in := &bp.Code[i]
		in.Node = mapIdx(nodeMap, in.Node)
		in.Expr = mapIdx(exprMap, in.Expr)
		if len(in.Steps) > 0 {
			steps := make([]blueprint.Step, len(in.Steps))
			for j, s := range in.Steps {
				s.Node = mapIdx(nodeMap, s.Node)
				s.Params = mapIdx(exprMap, s.Params)
				steps[j] = s
			}
			in.Steps = steps
		}
		if len(in.Deps) > 0 {
			deps := make([]int32, len(in.Deps))
			for j, d := range in.Deps {
				deps[j] = mapIdx(nodeMap, d)
			}
			in.Deps = deps
		}
	}
}

// renumber maps each kept index to its new position; dropped ones map to
// -1 (nothing live refers to them).
func renumber(keep []bool) []int32 {
	m := make([]int32, len(keep))
	next := int32(0)
	for i, k := range keep {
		if k {
			m[i] = next
			next++
		} else {
			m[i] = -1
		}
	}
	return m
}
