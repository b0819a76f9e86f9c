package compiler

import "github.com/skript-dev/skript/blueprint"

// Shared machinery of the optimizer passes. Passes only ever rewrite
// bp.Code: the node and expression tables stay as they are (a later stage
// prunes what is no longer used), so indices into them stay valid.

// rebuild replaces the program: pieces[pc] is what the instruction at the old
// pc becomes, nil to delete it or several instructions to insert code after
// it. Every pc reference inside the pieces is an old pc and is remapped to
// where that instruction now starts; a reference to a deleted pc moves to the
// next pc that is kept, which is where control would have gone anyway once
// the deleted instructions (Nops, jumps to the next instruction, unreachable
// code) no longer stand in between. Fallthrough follows the same rule. It
// returns, for each new instruction, the old pc whose piece it starts, or -1
// for the instructions inserted after that one.
func rebuild(bp *blueprint.Blueprint, pieces [][]blueprint.Instr) (origin []int32) {
	n := len(pieces)
	start := make([]int32, n+1)
	place := func() int32 {
		next := int32(0)
		for _, p := range pieces {
			next += int32(len(p))
		}
		start[n] = next
		for pc := n - 1; pc >= 0; pc-- {
			if len(pieces[pc]) > 0 {
				next -= int32(len(pieces[pc]))
			}
			start[pc] = next
		}
		return start[n]
	}
	size := place()
	// A kept instruction may refer, or fall through, into a deleted tail of
	// the program (possible only from code that is itself unreachable).
	// Keeping the last instruction gives it a valid place to land: it was
	// last before, so it does not fall through itself.
	if n > 0 && len(pieces[n-1]) == 0 && (refersPast(pieces, start, size) || lastFallsThrough(pieces)) {
		pieces[n-1] = []blueprint.Instr{bp.Code[n-1]}
		size = place()
	}
	code := make([]blueprint.Instr, 0, size)
	origin = make([]int32, 0, size)
	for pc, p := range pieces {
		for i, in := range p {
			if i == 0 {
				origin = append(origin, int32(pc))
			} else {
				origin = append(origin, -1)
			}
			in = in.Clone()
			in.VisitPCs(func(pc *int32) {
				if *pc >= 0 && int(*pc) < n {
					*pc = start[*pc]
				}
			})
			code = append(code, in)
		}
	}
	if bp.Finally > 0 && int(bp.Finally) < n {
		bp.Finally = start[bp.Finally]
	}
	bp.Code = code
	return origin
}

// dropOrphans deletes the instructions that a rewrite made unreachable:
// those whose origin (as rebuild returns it) was reachable before, per
// before, and is not any more. Passes use it to clean up after themselves,
// so that running them again finds nothing to do, without also doing dce's
// work on code that was dead all along.
func dropOrphans(bp *blueprint.Blueprint, before []bool, origin []int32) {
	after := reachable(bp)
	keep := make([]bool, len(bp.Code))
	orphans := false
	for pc := range keep {
		o := origin[pc]
		keep[pc] = o < 0 || !before[o] || after[pc]
		orphans = orphans || !keep[pc]
	}
	if orphans {
		compact(bp, keep)
	}
}

// refersPast reports whether some piece refers to an old pc that would be
// placed at or after the end of the new program.
func refersPast(pieces [][]blueprint.Instr, start []int32, size int32) bool {
	past := false
	for _, p := range pieces {
		for i := range p {
			p[i].VisitPCs(func(pc *int32) {
				if *pc >= 0 && int(*pc) < len(pieces) && start[*pc] >= size {
					past = true
				}
			})
		}
	}
	return past
}

// lastFallsThrough reports whether the last instruction of the new program
// would continue at the pc after it.
func lastFallsThrough(pieces [][]blueprint.Instr) bool {
	for pc := len(pieces) - 1; pc >= 0; pc-- {
		if p := pieces[pc]; len(p) > 0 {
			return p[len(p)-1].FallsThrough()
		}
	}
	return false
}

// compact deletes every instruction whose keep entry is false and remaps all
// pc references (see rebuild).
func compact(bp *blueprint.Blueprint, keep []bool) {
	pieces := make([][]blueprint.Instr, len(bp.Code))
	for pc := range bp.Code {
		if keep[pc] {
			pieces[pc] = bp.Code[pc : pc+1 : pc+1]
		}
	}
	rebuild(bp, pieces)
}

// reachable marks every instruction some token can reach from pc 0 (or
// from the finally nodes' entry, Blueprint.Finally), along
// the edges blueprint.Instr.Edges lists: a Task goes on to pc+1 and to its
// steps' catch blocks, except that a step running the fail action without
// on_error: continue never lets it reach pc+1.
func reachable(bp *blueprint.Blueprint) []bool {
	if len(bp.Code) == 0 {
		return nil
	}
	all := func(blueprint.Edge) bool { return true }
	seen := walk(bp.Code, 0, all)
	if f := bp.Finally; f > 0 && int(f) < len(bp.Code) {
		// The finally nodes are a second entry.
		for pc, ok := range walk(bp.Code, f, all) {
			seen[pc] = seen[pc] || ok
		}
	}
	return seen
}

// walk marks the pcs reachable from start along the edges follow accepts.
func walk(code []blueprint.Instr, start int32, follow func(blueprint.Edge) bool) []bool {
	seen := make([]bool, len(code))
	seen[start] = true
	work := []int32{start}
	var edges []blueprint.Edge
	for len(work) > 0 {
		pc := work[len(work)-1]
		work = work[:len(work)-1]
		edges = code[pc].Edges(pc, edges[:0])
		for _, e := range edges {
			if e.To >= 0 && int(e.To) < len(seen) && !seen[e.To] && follow(e) {
				seen[e.To] = true
				work = append(work, e.To)
			}
		}
	}
	return seen
}

// predecessors lists, for each pc, the pcs with an edge to it.
func predecessors(bp *blueprint.Blueprint) [][]int32 {
	preds := make([][]int32, len(bp.Code))
	for _, e := range bp.Edges() {
		if e.To >= 0 && int(e.To) < len(preds) {
			preds[e.To] = append(preds[e.To], e.From)
		}
	}
	return preds
}

// targeted marks every pc that some instruction refers to explicitly (a jump
// or branch target, a fork child, a resume point, a catch block, a loop
// head), as opposed to pcs reached only by falling through.
func targeted(bp *blueprint.Blueprint) []bool {
	t := make([]bool, len(bp.Code))
	for pc := range bp.Code {
		bp.Code[pc].VisitPCs(func(p *int32) {
			if *p >= 0 && int(*p) < len(t) {
				t[*p] = true
			}
		})
	}
	return t
}

// jumpDest follows a chain of Jumps starting at pc and returns the first pc
// that is not a Jump. A cycle of Jumps (an infinite loop the user wrote, or
// garbage) has no such pc; pc itself is returned then.
func jumpDest(code []blueprint.Instr, pc int32) int32 {
	seen := map[int32]bool{}
	for p := pc; p >= 0 && int(p) < len(code); p = code[p].Target {
		if code[p].Op != blueprint.OpJump {
			return p
		}
		if seen[p] {
			return pc
		}
		seen[p] = true
	}
	return pc
}
