package compiler

import (
	"testing"

	"github.com/skript-dev/skript/blueprint"
)

func TestParallel1(t *testing.T) {
	runPassCases(t, parallel1, []optCase{
		{
			name:   "one branch becomes a sequence",
			before: optCode{oFork(nPar, 3, 1), oTask(nA), oJoin(nPar), oEnd()},
			after:  optCode{oEnter(nPar), oTask(nA), oLeaveWrap(nPar), oEnd()},
		},
		{
			name:   "an empty branch",
			before: optCode{oFork(nPar, 2, 1), oJoin(nPar), oTask(nB), oEnd()},
			after:  optCode{oEnter(nPar), oLeaveWrap(nPar), oTask(nB), oEnd()},
		},
		{
			name:   "two branches stay",
			before: optCode{oFork(nPar, 5, 1, 3), oTask(nA), oJoin(nPar), oTask(nB), oJoin(nPar), oEnd()},
			after:  optCode{oFork(nPar, 5, 1, 3), oTask(nA), oJoin(nPar), oTask(nB), oJoin(nPar), oEnd()},
		},
		{
			// thread turns the If's "Jump L" into a copy of the Join, so the
			// branch has two Joins; each becomes a Leave that goes on to
			// the Fork's resume point.
			name: "a branch with two Joins",
			before: optCode{
				oFork(nPar, 6, 1), // 0
				oBranch(eX, 4),    // 1
				oTask(nA),         // 2
				oJoin(nPar),       // 3
				oTask(nB),         // 4
				oJoin(nPar),       // 5
				oTask(nC),         // 6
				oEnd(),            // 7
			},
			after: optCode{
				oEnter(nPar),
				oBranch(eX, 5),
				oTask(nA),
				oLeaveWrap(nPar),
				oOp(blueprint.OpJump, nPar, 7),
				oTask(nB),
				oLeaveWrap(nPar),
				oTask(nC),
				oEnd(),
			},
		},
		{
			name: "the flow after a Leave copies an End it would jump to",
			before: optCode{
				oFork(nPar, 6, 1), oBranch(eX, 4), oTask(nA), oJoin(nPar), oTask(nB), oJoin(nPar), oEnd(),
			},
			after: optCode{
				oEnter(nPar), oBranch(eX, 5), oTask(nA), oLeaveWrap(nPar), oEnd(), oTask(nB), oLeaveWrap(nPar), oEnd(),
			},
		},
		{
			name:   "a branch that does not start after the Fork",
			before: optCode{oFork(nPar, 4, 2), oEnd(), oTask(nA), oJoin(nPar), oEnd()},
			after:  optCode{oEnter(nPar), oOp(blueprint.OpJump, nPar, 3), oEnd(), oTask(nA), oLeaveWrap(nPar), oEnd()},
		},
		{
			name: "a nested Parallel with two branches",
			before: optCode{
				oFork(nPar, 7, 1),     // 0
				oFork(nPar2, 6, 2, 4), // 1
				oTask(nA),             // 2
				oJoin(nPar2),          // 3
				oTask(nB),             // 4
				oJoin(nPar2),          // 5
				oJoin(nPar),           // 6
				oEnd(),                // 7
			},
			after: optCode{
				oEnter(nPar),
				oFork(nPar2, 6, 2, 4),
				oTask(nA),
				oJoin(nPar2),
				oTask(nB),
				oJoin(nPar2),
				oLeaveWrap(nPar),
				oEnd(),
			},
		},
		{
			name: "nested one-branch Parallels",
			before: optCode{
				oFork(nPar, 5, 1),  // 0
				oFork(nPar2, 4, 2), // 1
				oTask(nA),          // 2
				oJoin(nPar2),       // 3
				oJoin(nPar),        // 4
				oEnd(),             // 5
			},
			after: optCode{oEnter(nPar), oEnter(nPar2), oTask(nA), oLeaveWrap(nPar2), oLeaveWrap(nPar), oEnd()},
		},
		{
			// The inner branch's first Leave must jump to the outer Join,
			// which becomes a Leave itself, rather than copy it.
			name: "nested one-branch Parallels with two inner Joins",
			before: optCode{
				oFork(nPar, 6, 1),  // 0
				oFork(nPar2, 5, 2), // 1
				oBranch(eX, 4),     // 2
				oJoin(nPar2),       // 3
				oJoin(nPar2),       // 4
				oJoin(nPar),        // 5
				oEnd(),             // 6
			},
			after: optCode{
				oEnter(nPar), oEnter(nPar2), oBranch(eX, 5), oLeaveWrap(nPar2), oOp(blueprint.OpJump, nPar2, 6),
				oLeaveWrap(nPar2), oLeaveWrap(nPar), oEnd(),
			},
		},
		{
			name: "inside a loop body",
			before: optCode{
				oMap(nLoop, eList, 5), // 0
				oFork(nPar, 4, 2),     // 1
				oTask(nA),             // 2
				oJoin(nPar),           // 3
				oJoin(nLoop),          // 4
				oEnd(),                // 5
			},
			after: optCode{oMap(nLoop, eList, 5), oEnter(nPar), oTask(nA), oLeaveWrap(nPar), oJoin(nLoop), oEnd()},
		},
		{
			// The Map's Join ends its iterations, not the branch.
			name: "loops inside the branch",
			before: optCode{
				oFork(nPar, 10, 1),    // 0
				oEnter(nWhile),        // 1
				oWhile(nWhile, eX, 5), // 2
				oTask(nA),             // 3
				oNext(nWhile, 2),      // 4
				oMap(nLoop, eList, 8), // 5
				oTask(nB),             // 6
				oJoin(nLoop),          // 7
				oTask(nC),             // 8
				oJoin(nPar),           // 9
				oEnd(),                // 10
			},
			after: optCode{
				oEnter(nPar), oEnter(nWhile), oWhile(nWhile, eX, 5), oTask(nA), oNext(nWhile, 2),
				oMap(nLoop, eList, 8), oTask(nB), oJoin(nLoop), oTask(nC), oLeaveWrap(nPar), oEnd(),
			},
		},
		{
			// Another way into the branch than the Fork: not a shape
			// lowering emits, and not safe to rewrite.
			name: "a branch entered from outside stays",
			before: optCode{
				oBranch(eX, 4),    // 0
				oFork(nPar, 5, 2), // 1
				oTask(nA),         // 2
				oJoin(nPar),       // 3
				oJump(2),          // 4
				oEnd(),            // 5
			},
			after: optCode{oBranch(eX, 4), oFork(nPar, 5, 2), oTask(nA), oJoin(nPar), oJump(2), oEnd()},
		},
		{
			name:   "a branch that always fails stays",
			before: optCode{oFork(nPar, 2, 1), oTask(nBoom), oEnd()},
			after:  optCode{oFork(nPar, 2, 1), oTask(nBoom), oEnd()},
		},
	})
}
