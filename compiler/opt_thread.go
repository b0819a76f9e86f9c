package compiler

import "github.com/skript-dev/skript/blueprint"

// threadPass shortens chains of jumps.
var threadPass = Pass{
	Name: "thread",
	Doc:  "jump threading: retarget jumps to jumps, drop jumps to the next instruction",
	Run:  thread,
}

// thread applies, until nothing changes:
//
//   - a pc reference (jump, branch, fork child, resume point, catch block,
//     loop exit) to a Jump is retargeted to where the chain of Jumps ends;
//     a Jump runs nothing, so going there directly is the same run;
//   - a Jump to a Join or End becomes a copy of that Join or End, saving the
//     hop (a Join hands the token's value to the token's own Fork or Map
//     group, whichever copy it reaches);
//   - a Jump to the instruction after it is deleted.
//
// Instructions that only the rewritten jumps reached are deleted as well, so
// that a second run finds nothing to do. Code that was unreachable before is
// left to dce, so that switching dce off keeps it.
func thread(bp *blueprint.Blueprint) {
	// Each round that changes something deletes or rewrites a Jump, so
	// this bound is never reached; it only guards against a mistake.
	for range len(bp.Code) + 1 {
		if !threadOnce(bp) {
			return
		}
	}
}

// threadOnce makes one round of the rewrites and reports whether anything
// changed.
func threadOnce(bp *blueprint.Blueprint) bool {
	code := bp.Code
	before := reachable(bp)
	changed := false
	for pc := range code {
		code[pc].VisitPCs(func(t *int32) {
			if d := jumpDest(code, *t); d != *t {
				*t = d
				changed = true
			}
		})
	}
	for pc := range code {
		in := &code[pc]
		if in.Op != blueprint.OpJump || in.Target < 0 || int(in.Target) >= len(code) {
			continue
		}
		if t := &code[in.Target]; t.Op == blueprint.OpJoin || t.Op == blueprint.OpEnd {
			*in = t.Clone()
			changed = true
		}
	}
	after := reachable(bp)
	// Deciding from the end backwards sees a Jump whose target becomes the
	// next instruction only once the instructions in between are deleted.
	keep := make([]bool, len(code))
	next := int32(len(code))
	for pc := len(code) - 1; pc >= 0; pc-- {
		in := &code[pc]
		orphan := before[pc] && !after[pc]
		toNext := in.Op == blueprint.OpJump && in.Target == next
		keep[pc] = !orphan && !toNext
		if keep[pc] {
			next = int32(pc)
		} else {
			changed = true
		}
	}
	compact(bp, keep)
	return changed
}
