package compiler

import "github.com/skript-dev/skript/blueprint"

// fusePass merges consecutive Actions into one Task.
var fusePass = Pass{
	Name: "fuse",
	Doc:  "node fusion: run consecutive Actions as one task (one queue round trip)",
	Run:  fuse,
}

// fuse merges a Task into the Task before it when nothing but falling
// through from that Task reaches it (no jump, branch, fork child, resume
// point or catch block names it) and the earlier Task's steps have no catch
// block. Then no scheduling decision separates the two: a worker can run the
// steps back to back, saving a queue round trip per Action. A step that
// fails is retried from itself, so fusing does not run earlier steps again.
// Any number of Tasks in a row become one.
func fuse(bp *blueprint.Blueprint) {
	code := bp.Code
	named := targeted(bp)
	keep := make([]bool, len(code))
	head := -1 // the Task the current run of Tasks is merged into
	// headCatch says whether a step merged into head so far has a catch
	// block; owned says head's Steps are a copy of its own, which appends
	// may grow in place. Both are kept as the run grows, so a chain of n
	// Actions fuses in O(n), not by copying and scanning the steps again for
	// each one.
	headCatch, owned := false, false
	for pc := range code {
		in := &code[pc]
		keep[pc] = true
		if in.Op != blueprint.OpTask {
			head = -1
			continue
		}
		if head >= 0 && !named[pc] && !headCatch {
			if !owned {
				// The merged Task must not share a backing array with the
				// instructions it absorbs.
				code[head].Steps = append([]blueprint.Step(nil), code[head].Steps...)
				owned = true
			}
			code[head].Steps = append(code[head].Steps, in.Steps...)
			headCatch = hasCatch(in)
			keep[pc] = false
			continue
		}
		head, headCatch, owned = pc, hasCatch(in), false
	}
	compact(bp, keep)
}

// hasCatch reports whether a step of the Task has a catch block: its failure
// leaves the Task for the block, and the code after it must stay a separate
// entry point.
func hasCatch(in *blueprint.Instr) bool {
	for _, s := range in.Steps {
		if s.Catch >= 0 {
			return true
		}
	}
	return false
}
