package blueprint

// A retried run starts again from a node: that node, and every node that
// control flow can reach from it without going back, runs again. These
// functions answer which nodes those are from the program alone (a retry has
// the stored Blueprint, not the workflow's source), by following the code
// the way a token would:
//
//   - a Task from the step of the node (the steps before it in a fused
//     Task come before it), then on to pc+1 and into the catch blocks of
//     the steps it runs;
//   - a Fork into every branch and on to where the forking token resumes;
//     a Map into its body and on; a Join on to where its group's parent
//     resumes;
//   - a while loop's Next on to the loop's exit, not back to its head: a
//     node of a loop body restarts every iteration from that node, and the
//     body's nodes before it are not after it; a Break on to the exit too;
//   - a Graph into every node and on; a Signal into the nodes that depend
//     on its node (they come after it), a node's Trigger into the node and
//     past it; a Race into every branch and on to both its resumes.
//
// Sibling branches of a Parallel are not reached from each other, so they
// are not "after" one another; neither are the two sides of an If.

// restartState is a place in the code: a pc and, for a Task, the first
// step run there.
type restartState struct {
	pc   int32
	step int
}

// RestartSet returns, indexed like Nodes, which nodes a run restarted from
// node runs again: the node, the nodes inside it, and every node reachable
// after them (see the comment above). It returns nil when node is out of
// range or has no code (the optimizer removed it).
func (bp *Blueprint) RestartSet(node int32) []bool {
	if node < 0 || int(node) >= len(bp.Nodes) {
		return nil
	}
	var starts []restartState
	for pc := range bp.Code {
		in := &bp.Code[pc]
		if in.Op == OpTask {
			for k := range in.Steps {
				if bp.within(in.Steps[k].Node, node) {
					starts = append(starts, restartState{pc: int32(pc), step: k})
					break
				}
			}
			continue
		}
		if bp.within(in.Node, node) {
			starts = append(starts, restartState{pc: int32(pc)})
		}
	}
	if len(starts) == 0 {
		return nil
	}
	set := make([]bool, len(bp.Nodes))
	bp.walk(starts, true, set)
	return set
}

// CatchOnly returns, indexed like Nodes, the nodes that run only inside a
// catch block: those with code that no path from the start reaches
// without taking a catch edge.
func (bp *Blueprint) CatchOnly() []bool {
	normal := make([]bool, len(bp.Nodes))
	if len(bp.Code) > 0 {
		bp.walk([]restartState{{pc: 0}}, false, normal)
	}
	all := bp.HasCode()
	out := make([]bool, len(bp.Nodes))
	for i := range out {
		out[i] = all[i] && !normal[i]
	}
	return out
}

// HasCode returns, indexed like Nodes, the nodes that some instruction or
// step belongs to (a node the optimizer removed has none).
func (bp *Blueprint) HasCode() []bool {
	out := make([]bool, len(bp.Nodes))
	mark := func(n int32) {
		if n >= 0 && int(n) < len(out) {
			out[n] = true
		}
	}
	for pc := range bp.Code {
		in := &bp.Code[pc]
		mark(in.Node)
		for k := range in.Steps {
			mark(in.Steps[k].Node)
		}
	}
	// A composite node runs when a node inside it does, even if the
	// optimizer left it no instruction of its own.
	for i := range bp.Nodes {
		if !out[i] {
			continue
		}
		for p, n := bp.Nodes[i].Parent, 0; p >= 0 && int(p) < len(out) && n < len(out); p, n = bp.Nodes[p].Parent, n+1 {
			out[p] = true
		}
	}
	return out
}

// within reports whether node n is anc or lies inside it. The bound
// guards against a foreign Blueprint whose parents loop.
func (bp *Blueprint) within(n, anc int32) bool {
	for i := 0; n >= 0 && int(n) < len(bp.Nodes) && i <= len(bp.Nodes); i++ {
		if n == anc {
			return true
		}
		n = bp.Nodes[n].Parent
	}
	return false
}

// walk marks in set every node of the code reachable from starts;
// catches says whether catch edges are followed.
func (bp *Blueprint) walk(starts []restartState, catches bool, set []bool) {
	code := bp.Code
	// resume is where the parent of a group resumes, by the group's node.
	resume := map[int32]int32{}
	// entries are a Graph's slots' entry pcs, by the Graph's node.
	entries := map[int32][]int32{}
	for pc := range code {
		if in := &code[pc]; in.Op == OpFork || in.Op == OpMap || in.Op == OpGraph || in.Op == OpRace {
			resume[in.Node] = in.Target
			if in.Op == OpGraph {
				entries[in.Node] = in.Targets
			}
		}
	}
	mark := func(n int32) {
		if n >= 0 && int(n) < len(set) {
			set[n] = true
		}
	}
	// first is the smallest step each pc has been entered at (-1: not
	// yet); entering a Task again at a later step adds nothing.
	first := make([]int, len(code))
	for i := range first {
		first[i] = -1
	}
	stack := append([]restartState(nil), starts...)
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if s.pc < 0 || int(s.pc) >= len(code) {
			continue
		}
		if f := first[s.pc]; f >= 0 && f <= s.step {
			continue
		}
		first[s.pc] = s.step
		in := &code[s.pc]
		if in.Op != OpTask {
			// A Task's Node is its first step's, which may come before
			// the step it is entered at.
			mark(in.Node)
		}
		push := func(pc int32) { stack = append(stack, restartState{pc: pc}) }
		switch in.Op {
		case OpTask:
			for k := s.step; k < len(in.Steps); k++ {
				mark(in.Steps[k].Node)
				if catches && in.Steps[k].Catch >= 0 {
					push(in.Steps[k].Catch)
				}
			}
			push(s.pc + 1)
		case OpNop, OpEnter, OpLeave, OpWait, OpSkip, OpCheck, OpWon:
			push(s.pc + 1)
		case OpCollect:
			push(s.pc + 1)
			if catches && in.catches() {
				push(in.Target)
			}
		case OpJump, OpBreak:
			push(in.Target)
		case OpBranch, OpMap, OpWhile, OpTrigger:
			push(s.pc + 1)
			push(in.Target)
		case OpFork, OpGraph, OpRace:
			for _, t := range in.Targets {
				push(t)
			}
			push(in.Target)
			if in.Op == OpRace {
				push(in.Else)
			}
		case OpSignal:
			// The nodes that depend on this one come after it.
			if n := in.Node; n >= 0 && int(n) < len(bp.Nodes) {
				slots := entries[bp.Nodes[n].Parent]
				for _, sg := range in.Signals {
					if sg.Slot >= 0 && int(sg.Slot) < len(slots) {
						push(slots[sg.Slot])
					}
				}
			}
			push(s.pc + 1)
		case OpJoin, OpWin:
			if t, ok := resume[in.Node]; ok {
				push(t)
			}
		case OpNext:
			if h := in.Target; h >= 0 && int(h) < len(code) && code[h].Op == OpWhile {
				push(code[h].Target)
			}
		}
	}
}
