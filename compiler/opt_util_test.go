package compiler

import (
	"reflect"
	"testing"

	"github.com/skript-dev/skript/blueprint"
)

// Optimizer tests work on hand-built programs of the shapes lowering emits,
// over one fixed node and expression table.

// Node indices of optNodes.
const (
	nA int32 = iota
	nB
	nC
	nD
	nE
	nIf
	nPar
	nPar2
	nLoop
	nWhile
	nBoom
	nSw
)

func optNodes() []blueprint.Node {
	action := func(id, act string) blueprint.Node {
		return blueprint.Node{ID: id, Kind: "Action", Action: act, Loop: -1}
	}
	return []blueprint.Node{
		action("a", "log"), action("b", "log"), action("c", "log"), action("d", "log"), action("e", "log"),
		{ID: "if", Kind: "If", Loop: -1},
		{ID: "par", Kind: "Parallel", Loop: -1},
		{ID: "par2", Kind: "Parallel", Loop: -1},
		{ID: "loop", Kind: "Loop", Var: "item", Loop: -1},
		{ID: "while", Kind: "Loop", Loop: -1},
		action("boom", "fail"),
		{ID: "sw", Kind: "Switch", Loop: -1},
	}
}

// Expression indices of optExprs.
const (
	eTrue int32 = iota
	eFalse
	eX // not constant
	eOne
	eList
	eDur
	eY // not constant
)

func optExprs() []blueprint.Expr {
	return []blueprint.Expr{
		{Src: "true", Const: true, Value: true},
		{Src: "false", Const: true, Value: false},
		{Src: "input.x"},
		{Src: "1", Const: true, Value: 1},
		{Src: "input.items"},
		{Src: `"10s"`, Const: true, Value: "10s"},
		{Src: "input.y"},
	}
}

func optProg(code ...blueprint.Instr) *blueprint.Blueprint {
	return &blueprint.Blueprint{Name: "t", Nodes: optNodes(), Exprs: optExprs(), Code: code, Output: -1}
}

func optStep(n int32) blueprint.Step {
	s := blueprint.Step{Node: n, Action: "log", Params: -1, Catch: -1, Retry: blueprint.Retry{MaxAttempts: 1}}
	if n == nBoom {
		s.Action = blueprint.FailAction
	}
	return s
}

func oTask(nodes ...int32) blueprint.Instr {
	in := blueprint.Instr{Op: blueprint.OpTask, Node: nodes[0], Expr: -1}
	for _, n := range nodes {
		in.Steps = append(in.Steps, optStep(n))
	}
	return in
}

// oCatch is a one-step Task whose step has a catch block at c.
func oCatch(n, c int32) blueprint.Instr {
	in := oTask(n)
	in.Steps[0].Catch = c
	return in
}

// oCont is a one-step Task whose step has on_error: continue.
func oCont(n int32) blueprint.Instr {
	in := oTask(n)
	in.Steps[0].Continue = true
	return in
}

func oOp(op blueprint.Op, node, target int32) blueprint.Instr {
	return blueprint.Instr{Op: op, Node: node, Expr: -1, Target: target}
}

func oNop() blueprint.Instr              { return oOp(blueprint.OpNop, -1, 0) }
func oEnd() blueprint.Instr              { return oOp(blueprint.OpEnd, -1, 0) }
func oJump(t int32) blueprint.Instr      { return oOp(blueprint.OpJump, -1, t) }
func oEnter(n int32) blueprint.Instr     { return oOp(blueprint.OpEnter, n, 0) }
func oLeave(n int32) blueprint.Instr     { return oOp(blueprint.OpLeave, n, 0) }
func oJoin(n int32) blueprint.Instr      { return oOp(blueprint.OpJoin, n, 0) }
func oNext(n, t int32) blueprint.Instr   { return oOp(blueprint.OpNext, n, t) }
func oWait(e int32) blueprint.Instr      { in := oOp(blueprint.OpWait, -1, 0); in.Expr = e; return in }
func oLeaveWrap(n int32) blueprint.Instr { in := oLeave(n); in.Wrap = true; return in }
func oLeaveFailed(n int32) blueprint.Instr {
	in := oLeave(n)
	in.Failed = true
	return in
}

func oBranch(e, t int32) blueprint.Instr {
	in := oOp(blueprint.OpBranch, nIf, t)
	in.Expr = e
	return in
}

func oMap(n, e, t int32) blueprint.Instr {
	in := oOp(blueprint.OpMap, n, t)
	in.Expr = e
	return in
}

func oWhile(n, e, t int32) blueprint.Instr {
	in := oOp(blueprint.OpWhile, n, t)
	in.Expr = e
	in.Max = 100
	return in
}

func oFork(n, t int32, targets ...int32) blueprint.Instr {
	in := oOp(blueprint.OpFork, n, t)
	in.Targets = targets
	return in
}

// optCode is a program's code, for short.
type optCode = []blueprint.Instr

// optCase is a program before and after one pass.
type optCase struct {
	name          string
	before, after []blueprint.Instr
}

// runPassCases runs pass on each case and checks the result, that the
// result validates, that the node and expression tables are untouched, and
// that running the pass again changes nothing.
func runPassCases(t *testing.T, pass func(*blueprint.Blueprint), cases []optCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bp := optProg(cloneCode(tc.before)...)
			if err := blueprint.Validate(bp); err != nil {
				t.Fatalf("input does not validate: %v\n%s", err, blueprint.Text(bp))
			}
			pass(bp)
			checkProgram(t, bp)
			want := optProg(cloneCode(tc.after)...)
			if !codeEqual(bp.Code, want.Code) {
				t.Fatalf("got\n%s\nwant\n%s", blueprint.Text(bp), blueprint.Text(want))
			}
			pass(bp)
			if !codeEqual(bp.Code, want.Code) {
				t.Errorf("a second run changed the program:\n%s", blueprint.Text(bp))
			}
		})
	}
}

// checkProgram validates bp, through the serialized form as a worker would
// read it, and checks that the tables the passes must not touch are intact.
func checkProgram(t *testing.T, bp *blueprint.Blueprint) {
	t.Helper()
	if err := blueprint.Validate(bp); err != nil {
		t.Fatalf("result does not validate: %v\n%s", err, blueprint.Text(bp))
	}
	data, err := blueprint.Encode(bp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blueprint.Decode(data); err != nil {
		t.Fatalf("result does not decode: %v", err)
	}
	if !reflect.DeepEqual(bp.Nodes, optNodes()) || !reflect.DeepEqual(bp.Exprs, optExprs()) {
		t.Error("the node or expression table changed")
	}
}

func cloneCode(code []blueprint.Instr) []blueprint.Instr {
	out := make([]blueprint.Instr, len(code))
	for i, in := range code {
		out[i] = in.Clone()
	}
	return out
}

func TestCompactRemapsEveryReference(t *testing.T) {
	bp := optProg(
		oFork(nPar, 6, 1, 3), // 0
		oNop(),               // 1 deleted: the child starts at 2
		oJoin(nPar),          // 2
		oCatch(nA, 5),        // 3: catch at a deleted pc
		oJoin(nPar),          // 4
		oNop(),               // 5 deleted
		oNop(),               // 6 deleted: resume moves to 7
		oBranch(eX, 9),       // 7
		oJump(9),             // 8
		oEnd(),               // 9
	)
	keep := []bool{true, false, true, true, true, false, false, true, true, true}
	compact(bp, keep)
	want := optProg(
		oFork(nPar, 4, 1, 2),
		oJoin(nPar),
		oCatch(nA, 4),
		oJoin(nPar),
		oBranch(eX, 6),
		oJump(6),
		oEnd(),
	)
	if !codeEqual(bp.Code, want.Code) {
		t.Errorf("got\n%s\nwant\n%s", blueprint.Text(bp), blueprint.Text(want))
	}
}

func TestCompactKeepsALandingPlace(t *testing.T) {
	// pc 1 is unreachable but kept (dce's business); the reachable tail it
	// jumps into is deleted. The last instruction stays so the jump and
	// the fallthrough of pc 2 still land somewhere.
	bp := optProg(
		oEnd(),    // 0
		oJump(4),  // 1
		oTask(nA), // 2
		oTask(nB), // 3
		oEnd(),    // 4
	)
	compact(bp, []bool{true, true, true, false, false})
	want := optProg(oEnd(), oJump(3), oTask(nA), oEnd())
	if !codeEqual(bp.Code, want.Code) {
		t.Errorf("got\n%s\nwant\n%s", blueprint.Text(bp), blueprint.Text(want))
	}
}

func TestReachable(t *testing.T) {
	bp := optProg(
		oTask(nA),         // 0
		oBranch(eX, 4),    // 1
		oTask(nBoom),      // 2: always fails
		oJump(9),          // 3: dead
		oFork(nPar, 7, 5), // 4
		oCatch(nBoom, 8),  // 5: fails into its catch block
		oJoin(nPar),       // 6: dead
		oEnd(),            // 7: resume point, kept
		oTask(nC),         // 8: catch block
		oEnd(),            // 9
		oTask(nD),         // 10: dead
	)
	got := reachable(bp)
	want := []bool{true, true, true, false, true, true, false, true, true, true, false}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("reachable = %v, want %v", got, want)
	}
}

func TestJumpDest(t *testing.T) {
	code := []blueprint.Instr{oJump(1), oJump(2), oEnd(), oJump(4), oJump(3)}
	for _, tc := range []struct{ from, want int32 }{{0, 2}, {1, 2}, {2, 2}, {3, 3}, {4, 4}} {
		if got := jumpDest(code, tc.from); got != tc.want {
			t.Errorf("jumpDest(%d) = %d, want %d", tc.from, got, tc.want)
		}
	}
}

// codeEqual reports whether two programs are the same instruction for
// instruction (nil and empty slices alike).
func codeEqual(a, b []blueprint.Instr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.Op != y.Op || x.Node != y.Node || x.Target != y.Target || x.Expr != y.Expr ||
			x.Concurrency != y.Concurrency || x.Max != y.Max || x.Until != y.Until ||
			x.Failed != y.Failed || x.Wrap != y.Wrap ||
			len(x.Targets) != len(y.Targets) || len(x.Steps) != len(y.Steps) {
			return false
		}
		for j := range x.Targets {
			if x.Targets[j] != y.Targets[j] {
				return false
			}
		}
		for j := range x.Steps {
			if x.Steps[j] != y.Steps[j] {
				return false
			}
		}
	}
	return true
}
