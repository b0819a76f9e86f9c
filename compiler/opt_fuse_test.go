package compiler

import (
	"testing"

	"github.com/skript-dev/skript/blueprint"
)

func TestFuse(t *testing.T) {
	// A fused Task keeps its first step's record node and takes the steps of
	// the Tasks it absorbed, in order.
	caught := oTask(nA, nB)
	caught.Steps[1].Catch = 2
	cont := oTask(nA, nB)
	cont.Steps[0].Continue = true
	runPassCases(t, fuse, []optCase{
		{
			name:   "any number in a row",
			before: optCode{oTask(nA), oTask(nB), oTask(nC), oEnd()},
			after:  optCode{oTask(nA, nB, nC), oEnd()},
		},
		{
			name:   "a jump target starts a new Task",
			before: optCode{oBranch(eX, 2), oTask(nA), oTask(nB), oTask(nC), oEnd()},
			after:  optCode{oBranch(eX, 2), oTask(nA), oTask(nB, nC), oEnd()},
		},
		{
			name: "the code after a step with a catch block stays apart",
			before: optCode{
				oCatch(nA, 3),    // 0
				oTask(nB),        // 1
				oEnd(),           // 2
				oTask(nC),        // 3 catch block
				oTask(nD),        // 4
				oLeaveFailed(nA), // 5
				oEnd(),           // 6
			},
			after: optCode{oCatch(nA, 3), oTask(nB), oEnd(), oTask(nC, nD), oLeaveFailed(nA), oEnd()},
		},
		{
			name: "a Task with a catch block can end a fused run",
			before: optCode{
				oTask(nA),        // 0
				oCatch(nB, 3),    // 1
				oJump(5),         // 2
				oTask(nC),        // 3
				oLeaveFailed(nB), // 4
				oEnd(),           // 5
			},
			after: optCode{caught, oJump(4), oTask(nC), oLeaveFailed(nB), oEnd()},
		},
		{
			name:   "on_error: continue does not stop fusion",
			before: optCode{oCont(nA), oTask(nB), oEnd()},
			after:  optCode{cont, oEnd()},
		},
		{
			name: "control instructions separate runs",
			before: optCode{
				oTask(nA), oTask(nB), oEnter(nIf), oTask(nC), oTask(nD), oLeave(nIf),
				oWait(eDur), oTask(nE), oEnd(),
			},
			after: optCode{
				oTask(nA, nB), oEnter(nIf), oTask(nC, nD), oLeave(nIf), oWait(eDur), oTask(nE), oEnd(),
			},
		},
		{
			name: "fork children and loop bodies",
			before: optCode{
				oFork(nPar, 4, 1, 3),  // 0
				oTask(nA),             // 1
				oJoin(nPar),           // 2
				oJoin(nPar),           // 3
				oMap(nLoop, eList, 8), // 4
				oTask(nB),             // 5
				oTask(nC),             // 6
				oJoin(nLoop),          // 7
				oTask(nD),             // 8 the Map's resume point
				oTask(nE),             // 9
				oEnd(),                // 10
			},
			after: optCode{
				oFork(nPar, 4, 1, 3), oTask(nA), oJoin(nPar), oJoin(nPar),
				oMap(nLoop, eList, 7), oTask(nB, nC), oJoin(nLoop), oTask(nD, nE), oEnd(),
			},
		},
	})
}

func TestFuseDoesNotAlias(t *testing.T) {
	// The absorbed Task's steps must be copied, not shared: a later
	// rewrite of one Task must not show in another.
	first := oTask(nA)
	first.Steps = append(make([]blueprint.Step, 0, 4), first.Steps...)
	bp := optProg(first, oTask(nB), oEnd())
	fuse(bp)
	bp.Code[0].Steps[1].Action = "changed"
	if first.Steps[:2][1].Action == "changed" {
		t.Error("the fused Task shares its steps with the input")
	}
}
