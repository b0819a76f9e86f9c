package compiler

import (
	"testing"

	"github.com/skript-dev/skript/blueprint"
)

func TestThread(t *testing.T) {
	runPassCases(t, thread, []optCase{
		{
			name: "chains are followed and the jumps they skipped go away",
			before: optCode{
				oBranch(eX, 3), // 0
				oTask(nA),      // 1
				oJump(5),       // 2
				oJump(4),       // 3
				oJump(6),       // 4
				oTask(nB),      // 5
				oTask(nC),      // 6
				oEnd(),         // 7
			},
			// The false edge goes straight to c; 3 and 4 are orphaned,
			// which makes 2 a jump to the next instruction.
			after: optCode{oBranch(eX, 3), oTask(nA), oTask(nB), oTask(nC), oEnd()},
		},
		{
			name:   "a jump to the next instruction",
			before: optCode{oEnter(nIf), oJump(2), oTask(nB), oLeave(nIf), oEnd()},
			after:  optCode{oEnter(nIf), oTask(nB), oLeave(nIf), oEnd()},
		},
		{
			name:   "a jump at the entry",
			before: optCode{oJump(1), oTask(nA), oEnd()},
			after:  optCode{oTask(nA), oEnd()},
		},
		{
			name:   "a jump to End becomes End",
			before: optCode{oBranch(eX, 3), oTask(nA), oJump(4), oTask(nB), oEnd()},
			after:  optCode{oBranch(eX, 3), oTask(nA), oEnd(), oTask(nB), oEnd()},
		},
		{
			name: "a jump to a Join becomes the Join",
			before: optCode{
				oFork(nPar, 7, 1, 6), // 0
				oBranch(eX, 4),       // 1
				oTask(nA),            // 2
				oJump(5),             // 3
				oTask(nB),            // 4
				oJoin(nPar),          // 5
				oJoin(nPar),          // 6
				oEnd(),               // 7
			},
			after: optCode{
				oFork(nPar, 7, 1, 6),
				oBranch(eX, 4),
				oTask(nA),
				oJoin(nPar),
				oTask(nB),
				oJoin(nPar),
				oJoin(nPar),
				oEnd(),
			},
		},
		{
			name: "fork children, resume points, catch blocks and loop exits are threaded",
			before: optCode{
				oFork(nPar, 3, 1, 2),   // 0
				oJump(6),               // 1
				oJump(6),               // 2
				oCatch(nA, 4),          // 3
				oJump(7),               // 4
				oJoin(nPar),            // 5
				oJoin(nPar),            // 6
				oMap(nLoop, eList, 10), // 7
				oTask(nB),              // 8
				oJoin(nLoop),           // 9
				oJump(11),              // 10
				oEnd(),                 // 11
			},
			// The children start at the Join at 6 and the catch block is
			// the Map; the jumps at 1 and 2 are orphaned and deleted. The
			// Jump at 4 stays (a falls through to it) and the dead Join at
			// 5 is left to dce.
			after: optCode{
				oFork(nPar, 1, 4, 4),
				oCatch(nA, 5),
				oJump(5),
				oJoin(nPar),
				oJoin(nPar),
				oMap(nLoop, eList, 8),
				oTask(nB),
				oJoin(nLoop),
				oEnd(),
			},
		},
		{
			name:   "a cycle of jumps terminates",
			before: optCode{oBranch(eX, 3), oJump(2), oJump(1), oEnd()},
			after:  optCode{oBranch(eX, 2), oJump(1), oEnd()},
		},
		{
			name:   "a jump to itself stays",
			before: optCode{oTask(nA), oJump(1)},
			after:  optCode{oTask(nA), oJump(1)},
		},
		{
			// The dead Jump is rewritten like any other, but nothing dead is
			// deleted.
			name:   "dead code is left to dce",
			before: optCode{oTask(nA), oEnd(), oJump(3), oEnd()},
			after:  optCode{oTask(nA), oEnd(), oEnd(), oEnd()},
		},
	})
}

func TestThreadKeepsDeadCodeValid(t *testing.T) {
	// pc 1 is dead and falls through into the End that the jump used to
	// reach; that End is orphaned but must stay as a landing place.
	bp := optProg(oJump(2), oTask(nA), oEnd())
	thread(bp)
	checkProgram(t, bp)
	want := optProg(oEnd(), oTask(nA), oEnd())
	if !codeEqual(bp.Code, want.Code) {
		t.Errorf("got\n%s", blueprint.Text(bp))
	}
}
