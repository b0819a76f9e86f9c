package compiler

import (
	"testing"

	"github.com/skript-dev/skript/blueprint"
)

// ifElse is `If cond then a else b` followed by c, as lowering emits it.
func optIfElse(cond int32) optCode {
	return optCode{
		oEnter(nIf),      // 0
		oBranch(cond, 4), // 1
		oTask(nA),        // 2
		oJump(5),         // 3
		oTask(nB),        // 4
		oLeave(nIf),      // 5
		oTask(nC),        // 6
		oEnd(),           // 7
	}
}

func TestFold(t *testing.T) {
	runPassCases(t, fold, []optCase{
		{
			name:   "constant true falls into then",
			before: optIfElse(eTrue),
			after:  optCode{oEnter(nIf), oTask(nA), oJump(4), oTask(nB), oLeave(nIf), oTask(nC), oEnd()},
		},
		{
			name:   "constant false jumps to else",
			before: optIfElse(eFalse),
			after:  optCode{oEnter(nIf), oOp(blueprint.OpJump, nIf, 4), oTask(nA), oJump(5), oTask(nB), oLeave(nIf), oTask(nC), oEnd()},
		},
		{
			name:   "only the bool true is true",
			before: optIfElse(eOne),
			after:  optCode{oEnter(nIf), oOp(blueprint.OpJump, nIf, 4), oTask(nA), oJump(5), oTask(nB), oLeave(nIf), oTask(nC), oEnd()},
		},
		{
			name:   "a run-time condition stays",
			before: optIfElse(eX),
			after:  optIfElse(eX),
		},
		{
			name: "switch cases",
			before: optCode{
				oEnter(nSw),        // 0
				oBranch(eFalse, 4), // 1 case 1
				oTask(nA),          // 2
				oJump(9),           // 3
				oBranch(eX, 7),     // 4 case 2
				oTask(nB),          // 5
				oJump(9),           // 6
				oBranch(eTrue, 9),  // 7 case 3
				oTask(nC),          // 8
				oLeave(nSw),        // 9
				oEnd(),             // 10
			},
			after: optCode{
				oEnter(nSw),
				oOp(blueprint.OpJump, nIf, 4),
				oTask(nA),
				oJump(8),
				oBranch(eX, 7),
				oTask(nB),
				oJump(8),
				oTask(nC),
				oLeave(nSw),
				oEnd(),
			},
		},
		{
			// A While that never runs still records [], and a Map over a
			// constant list still records its output: both stay.
			name: "loops stay",
			before: optCode{
				oEnter(nWhile),            // 0
				oWhile(nWhile, eFalse, 4), // 1
				oTask(nA),                 // 2
				oNext(nWhile, 1),          // 3
				oMap(nLoop, eOne, 7),      // 4
				oTask(nB),                 // 5
				oJoin(nLoop),              // 6
				oEnd(),                    // 7
			},
			after: optCode{
				oEnter(nWhile), oWhile(nWhile, eFalse, 4), oTask(nA), oNext(nWhile, 1),
				oMap(nLoop, eOne, 7), oTask(nB), oJoin(nLoop), oEnd(),
			},
		},
		{
			name:   "nops are dropped and references move past them",
			before: optCode{oBranch(eX, 3), oTask(nA), oNop(), oNop(), oTask(nB), oEnd()},
			after:  optCode{oBranch(eX, 2), oTask(nA), oTask(nB), oEnd()},
		},
		{
			name:   "a nop at the entry",
			before: optCode{oNop(), oBranch(eTrue, 3), oTask(nA), oEnd()},
			after:  optCode{oTask(nA), oEnd()},
		},
	})
}
