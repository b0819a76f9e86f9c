package compiler

import "github.com/skript-dev/skript/blueprint"

// foldPass decides Branches whose condition the compiler already evaluated.
var foldPass = Pass{
	Name: "fold",
	Doc:  "decide conditions that are constant at compile time",
	Run:  fold,
}

// fold rewrites every Branch whose expression is constant (Expr.Const): a
// true condition falls through into the then-code, so the Branch goes away;
// any other value takes the false edge, so it becomes a Jump. Only the bool
// true counts as true, the same rule the runtime applies to conditions.
// Nops are then dropped. The untaken code stays for dce to remove.
//
// While heads are left alone even with a constant condition: a While that
// never runs its body still records [] as the loop's output, which no other
// instruction can express. Map over a constant list is left alone for the
// same reason.
func fold(bp *blueprint.Blueprint) {
	keep := make([]bool, len(bp.Code))
	for pc := range bp.Code {
		in := &bp.Code[pc]
		if in.Op == blueprint.OpBranch {
			if c, ok := constCond(bp, in.Expr); ok {
				if c {
					in.Op = blueprint.OpNop
				} else {
					in.Op = blueprint.OpJump
				}
				// The condition is no longer evaluated; a Jump's Target
				// is the old false edge.
				in.Expr = -1
			}
		}
		keep[pc] = in.Op != blueprint.OpNop
	}
	compact(bp, keep)
}

// constCond returns the truth of expression e when the compiler evaluated it.
func constCond(bp *blueprint.Blueprint, e int32) (truth, ok bool) {
	if e < 0 || int(e) >= len(bp.Exprs) || !bp.Exprs[e].Const {
		return false, false
	}
	b, isBool := bp.Exprs[e].Value.(bool)
	return isBool && b, true
}
