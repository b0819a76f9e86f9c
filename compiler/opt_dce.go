package compiler

import "github.com/skript-dev/skript/blueprint"

// dcePass removes code no token can reach.
var dcePass = Pass{
	Name: "dce",
	Doc:  "remove unreachable code (untaken constant branches, code after a certain failure)",
	Run:  dce,
}

// dce deletes every instruction that is unreachable from pc 0. After fold
// this is the untaken side of a constant If or Switch case; it is also the
// code after a step that always fails without on_error: continue (see
// reachable), and the "Jump past the catch block" after such a step.
// Removing code no token reaches cannot change a run.
//
// The nodes of removed code are no longer part of the workflow: a Skip
// that would record them skipped forgets them (and goes when it has none
// left), so the node table and the compiled text drop them too. A node
// that can never run is dead code, not a branch a run did not take.
func dce(bp *blueprint.Blueprint) {
	compact(bp, reachable(bp))
	forgetDeadSkips(bp)
}

// forgetDeadSkips drops from each Skip the nodes no other instruction
// names any more, and deletes a Skip left with none.
func forgetDeadSkips(bp *blueprint.Blueprint) {
	live := make([]bool, len(bp.Nodes))
	skips := false
	for _, in := range bp.Code {
		if in.Op == blueprint.OpSkip {
			skips = true
			continue
		}
		if in.Node >= 0 && int(in.Node) < len(live) {
			live[in.Node] = true
		}
	}
	if !skips {
		return
	}
	keep := make([]bool, len(bp.Code))
	drop := false
	for pc := range bp.Code {
		in := &bp.Code[pc]
		keep[pc] = true
		if in.Op != blueprint.OpSkip {
			continue
		}
		deps := in.Deps[:0:0]
		for _, d := range in.Deps {
			if d >= 0 && int(d) < len(live) && live[d] {
				deps = append(deps, d)
			}
		}
		if len(deps) < len(in.Deps) {
			in.Deps = deps
		}
		if len(in.Deps) == 0 {
			keep[pc], drop = false, true
		}
	}
	if drop {
		compact(bp, keep)
	}
}
