package compiler

import "github.com/skript-dev/skript/blueprint"

// parallel1Pass turns a one-branch Parallel into plain sequence.
var parallel1Pass = Pass{
	Name: "parallel1",
	Doc:  "run a Parallel with a single branch as plain sequence",
	Run:  parallel1,
}

// parallel1 rewrites every Fork with exactly one target. Forking one child
// costs a token, a join counter and a resume for nothing; running the branch
// in the forking token does the same work:
//
//	F: Fork [B] -> R          Enter              (node record running)
//	B: ...branch...           ...branch...
//	J: Join                   Leave wrap         (output and last = [last])
//	R:                        R:
//
// Leave gets Wrap so the node's output stays a one-element list, as the
// Fork would have recorded. When the branch does not start right after the
// Fork, or a Join is not right before R, a Jump (or a copy of the Join or
// End at R) is inserted to keep the flow. A Fork whose branch is not a
// single-entry region ending only in its own Joins is left alone: that
// shape never comes from lowering, and the rewrite would not be safe.
func parallel1(bp *blueprint.Blueprint) {
	code := bp.Code
	type plan struct {
		fork  int32
		joins []int32
	}
	var plans []plan
	var preds [][]int32
	// rewritten marks the Forks and Joins that change, which flowTo must
	// not copy: a copy of a Join that is turned into a Leave would be
	// wrong.
	rewritten := make([]bool, len(code))
	for f := range code {
		if code[f].Op != blueprint.OpFork || len(code[f].Targets) != 1 {
			continue
		}
		// A Fork whose failures are collected must stay a group: its
		// branch's failure ends at its Join.
		if t := code[f].Target; t >= 0 && int(t) < len(code) && code[t].Op == blueprint.OpCollect {
			continue
		}
		if preds == nil {
			preds = predecessors(bp)
		}
		joins, ok := forkBranch(bp, preds, int32(f))
		if !ok {
			continue
		}
		plans = append(plans, plan{int32(f), joins})
		rewritten[f] = true
		for _, j := range joins {
			rewritten[j] = true
		}
	}
	if len(plans) == 0 {
		return
	}
	pieces := make([][]blueprint.Instr, len(code))
	for pc := range code {
		pieces[pc] = code[pc : pc+1 : pc+1]
	}
	for _, p := range plans {
		fork := &code[p.fork]
		enter := blueprint.Instr{Op: blueprint.OpEnter, Node: fork.Node, Expr: -1}
		pieces[p.fork] = append([]blueprint.Instr{enter}, flowTo(code, rewritten, p.fork, fork.Targets[0])...)
		for _, j := range p.joins {
			leave := blueprint.Instr{Op: blueprint.OpLeave, Node: fork.Node, Expr: -1, Wrap: true}
			pieces[j] = append([]blueprint.Instr{leave}, flowTo(code, rewritten, j, fork.Target)...)
		}
	}
	// The resume point of a Fork whose Joins now copy the End or Join
	// found there is left without a predecessor.
	before := reachable(bp)
	dropOrphans(bp, before, rebuild(bp, pieces))
}

// flowTo returns what must follow the instruction at pc for control to go
// on at target: nothing when target is next, else a Jump, or a copy of the
// Join or End it would reach (what thread would make of that Jump) unless
// that instruction is being rewritten.
func flowTo(code []blueprint.Instr, rewritten []bool, pc, target int32) []blueprint.Instr {
	target = jumpDest(code, target)
	if target == pc+1 {
		return nil
	}
	if t := code[target]; !rewritten[target] && (t.Op == blueprint.OpJoin || t.Op == blueprint.OpEnd) {
		return []blueprint.Instr{t}
	}
	return []blueprint.Instr{{Op: blueprint.OpJump, Node: code[pc].Node, Expr: -1, Target: target}}
}

// forkBranch checks the one branch of the Fork at f and returns the Joins
// that end it. The branch is every pc reachable from its entry; it must not
// contain the Fork, its resume point or an End, and must be entered only
// through the Fork's edge (or from inside, as a loop at its start does).
// Its own Joins are those reached without descending into nested Forks and
// Maps, whose children end in Joins of their own.
func forkBranch(bp *blueprint.Blueprint, preds [][]int32, f int32) ([]int32, bool) {
	code := bp.Code
	fork := &code[f]
	entry := fork.Targets[0]
	n := int32(len(code))
	if entry < 0 || entry >= n || fork.Target < 0 || fork.Target >= n {
		return nil, false
	}
	region := walk(code, entry, func(blueprint.Edge) bool { return true })
	if region[f] || region[fork.Target] {
		return nil, false
	}
	for pc, in := range region {
		if !in {
			continue
		}
		if code[pc].Op == blueprint.OpEnd {
			return nil, false
		}
		for _, p := range preds[pc] {
			if !region[p] && (int32(pc) != entry || p != f) {
				return nil, false
			}
		}
	}
	own := walk(code, entry, func(e blueprint.Edge) bool {
		return e.Kind != blueprint.EdgeFork && e.Kind != blueprint.EdgeEach
	})
	var joins []int32
	for pc, in := range own {
		if in && code[pc].Op == blueprint.OpJoin {
			joins = append(joins, int32(pc))
		}
	}
	return joins, len(joins) > 0
}
