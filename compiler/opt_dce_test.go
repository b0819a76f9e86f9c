package compiler

import "testing"

func TestDCE(t *testing.T) {
	runPassCases(t, dce, []optCase{
		{
			name:   "untaken then of a constant false If",
			before: optCode{oEnter(nIf), oJump(4), oTask(nA), oJump(5), oTask(nB), oLeave(nIf), oEnd()},
			after:  optCode{oEnter(nIf), oJump(2), oTask(nB), oLeave(nIf), oEnd()},
		},
		{
			name:   "untaken else of a constant true If",
			before: optCode{oEnter(nIf), oTask(nA), oJump(4), oTask(nB), oLeave(nIf), oEnd()},
			after:  optCode{oEnter(nIf), oTask(nA), oJump(3), oLeave(nIf), oEnd()},
		},
		{
			name:   "code after a failure, End included",
			before: optCode{oTask(nA), oTask(nBoom), oTask(nB), oEnd()},
			after:  optCode{oTask(nA), oTask(nBoom)},
		},
		{
			name:   "a failure that continues is not final",
			before: optCode{oTask(nA), oCont(nBoom), oTask(nB), oEnd()},
			after:  optCode{oTask(nA), oCont(nBoom), oTask(nB), oEnd()},
		},
		{
			name: "a failure into its catch block skips the jump past the block",
			before: optCode{
				oCatch(nBoom, 2),    // 0
				oJump(4),            // 1
				oTask(nC),           // 2
				oLeaveFailed(nBoom), // 3
				oEnd(),              // 4
			},
			after: optCode{oCatch(nBoom, 1), oTask(nC), oLeaveFailed(nBoom), oEnd()},
		},
		{
			name: "a failing branch loses its Join, the Fork keeps its resume point",
			before: optCode{
				oFork(nPar, 5, 1, 3), // 0
				oTask(nBoom),         // 1
				oJoin(nPar),          // 2
				oTask(nA),            // 3
				oJoin(nPar),          // 4
				oTask(nB),            // 5
				oEnd(),               // 6
			},
			after: optCode{oFork(nPar, 4, 1, 2), oTask(nBoom), oTask(nA), oJoin(nPar), oTask(nB), oEnd()},
		},
		{
			name: "loops are reachable",
			before: optCode{
				oMap(nLoop, eList, 3), oTask(nA), oJoin(nLoop),
				oEnter(nWhile), oWhile(nWhile, eX, 7), oTask(nB), oNext(nWhile, 4),
				oWait(eDur), oEnd(),
			},
			after: optCode{
				oMap(nLoop, eList, 3), oTask(nA), oJoin(nLoop),
				oEnter(nWhile), oWhile(nWhile, eX, 7), oTask(nB), oNext(nWhile, 4),
				oWait(eDur), oEnd(),
			},
		},
		{
			name:   "code after End",
			before: optCode{oTask(nA), oEnd(), oTask(nB), oEnd()},
			after:  optCode{oTask(nA), oEnd()},
		},
	})
}
