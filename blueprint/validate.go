package blueprint

import (
	"errors"
	"fmt"
)

// Validate checks that the program is well formed: every pc, expression and
// node index is in range, every instruction has the operands its opcode
// needs, and no instruction falls off the end of the code. The runtime may
// then index the tables without bounds checks of its own; Decode calls it
// because a Blueprint read from a store is foreign data. All problems are
// reported, joined, in pc order.
func Validate(bp *Blueprint) error {
	if bp == nil {
		return errors.New("blueprint: nil")
	}
	v := validator{bp: bp}
	v.check()
	return errors.Join(v.errs...)
}

type validator struct {
	bp   *Blueprint
	errs []error
}

// maxErrors keeps the report of a garbage input readable.
const maxErrors = 20

func (v *validator) fail(format string, args ...any) {
	if len(v.errs) == maxErrors {
		v.errs = append(v.errs, errors.New("blueprint: too many errors"))
	}
	if len(v.errs) > maxErrors {
		return
	}
	v.errs = append(v.errs, fmt.Errorf("blueprint: "+format, args...))
}

func (v *validator) node(at string, n int32, optional bool) {
	if n == -1 && optional {
		return
	}
	if n < 0 || int(n) >= len(v.bp.Nodes) {
		v.fail("%s: node %d out of range (%d nodes)", at, n, len(v.bp.Nodes))
	}
}

func (v *validator) expr(at string, e int32, optional bool) {
	if e == -1 && optional {
		return
	}
	if e < 0 || int(e) >= len(v.bp.Exprs) {
		v.fail("%s: expression %d out of range (%d exprs)", at, e, len(v.bp.Exprs))
	}
}

func (v *validator) check() {
	bp := v.bp
	if len(bp.Code) == 0 {
		v.fail("no code")
	}
	v.expr("output", bp.Output, true)
	if bp.Finally < 0 || (bp.Finally > 0 && int(bp.Finally) >= len(bp.Code)) {
		v.fail("finally: pc %d out of range (%d instructions)", bp.Finally, len(bp.Code))
	}
	for i, n := range bp.Nodes {
		v.node(fmt.Sprintf("node %d (%s) loop", i, n.ID), n.Loop, true)
		v.node(fmt.Sprintf("node %d (%s) parent", i, n.ID), n.Parent, true)
	}
	for i := range bp.Exprs {
		v.checkExpr(i)
	}
	for pc := range bp.Code {
		v.checkInstr(pc)
	}
}

func (v *validator) checkExpr(i int) {
	e := &v.bp.Exprs[i]
	at := fmt.Sprintf("expression %d", i)
	for k, sp := range e.Spans {
		if sp.From < 0 || k > 0 && sp.From <= e.Spans[k-1].From {
			v.fail("%s span %d: offset %d is not after the previous span's", at, k, sp.From)
		}
	}
	for _, r := range e.Refs {
		v.node(at+" ref "+r.Name, r.Node, false)
	}
	for _, x := range e.Vars {
		switch x.Kind {
		case VarInput, VarRun, VarAttempt:
			// Not bound to a node.
		case VarItem, VarIndex, VarIteration, VarParams, VarError, VarPrevious:
			v.node(at+" var "+x.Name, x.Node, false)
		default:
			v.fail("%s var %s: unknown kind %d", at, x.Name, x.Kind)
		}
	}
}

func (v *validator) checkInstr(pc int) {
	bp := v.bp
	in := &bp.Code[pc]
	if int(in.Op) >= len(opNames) {
		v.fail("pc %d: unknown opcode %d", pc, in.Op)
		return
	}
	at := fmt.Sprintf("pc %d (%s)", pc, in.Op)
	// Nodes: composite markers and loop heads need theirs, since the
	// runtime keys records and frames by it.
	switch in.Op {
	case OpFork, OpMap, OpEnter, OpLeave, OpWhile, OpNext, OpGraph, OpTrigger, OpSignal, OpBreak, OpCollect, OpSkip, OpRace, OpWon, OpCheck:
		v.node(at, in.Node, false)
	default:
		v.node(at, in.Node, true)
	}
	// Only the opcodes that evaluate an expression read Expr; elsewhere a
	// stray value is harmless and not worth refusing a Blueprint for.
	if in.Op.UsesExpr() || in.Op == OpEnter {
		v.expr(at, in.Expr, in.Op == OpEnter)
	}
	if in.Concurrency < 0 || in.Max < 0 {
		v.fail("%s: negative concurrency or max", at)
	}
	in.VisitPCs(func(t *int32) {
		if *t < 0 || int(*t) >= len(bp.Code) {
			v.fail("%s: target %d out of range (%d instructions)", at, *t, len(bp.Code))
		}
	})
	if in.FallsThrough() && pc+1 >= len(bp.Code) {
		v.fail("%s: falls off the end of the code", at)
	}
	switch in.Op {
	case OpFork:
		if len(in.Targets) == 0 {
			v.fail("%s: no targets", at)
		}
	case OpGraph:
		if len(in.Targets) == 0 || len(in.Needs) != len(in.Targets) {
			v.fail("%s: %d targets and %d needs", at, len(in.Targets), len(in.Needs))
		}
		for i, n := range in.Needs {
			if n < 0 || int(n) >= len(in.Targets) {
				v.fail("%s: slot %d needs %d signals", at, i, n)
			}
		}
	case OpRace:
		if len(in.Targets) == 0 {
			v.fail("%s: no targets", at)
		}
	case OpTrigger, OpCheck, OpSkip, OpWon:
		for _, d := range in.Deps {
			v.node(at+" dep", d, false)
		}
		if in.Op == OpTrigger {
			switch in.Rule {
			case RuleAllSucceeded, RuleAllDone, RuleAnyFailed, RuleNoneFailedMinOneSuccess:
			default:
				v.fail("%s: unknown rule %q", at, in.Rule)
			}
		}
	case OpCollect:
		if in.Handle != "" && in.Handle != HandleContinue && in.Handle != HandleCatch {
			v.fail("%s: unknown handle %q", at, in.Handle)
		}
	case OpSignal:
		for _, sg := range in.Signals {
			if sg.Slot < 0 || sg.At < 0 {
				v.fail("%s: negative signal slot", at)
			}
		}
	case OpTask:
		if len(in.Steps) == 0 {
			v.fail("%s: no steps", at)
		}
		for i, s := range in.Steps {
			sat := fmt.Sprintf("%s step %d", at, i)
			v.node(sat, s.Node, false)
			v.expr(sat+" params", s.Params, true)
			if s.Action == "" {
				v.fail("%s: no action", sat)
			}
			if s.Catch < -1 {
				v.fail("%s: catch %d out of range", sat, s.Catch)
			}
			if s.Timeout < 0 || s.Retry.MaxAttempts < 0 || s.Retry.InitialInterval < 0 || s.Retry.MaxInterval < 0 ||
				s.Retry.Jitter != nil && !(*s.Retry.Jitter >= 0 && *s.Retry.Jitter <= 1) ||
				s.Retry.Filter != nil && (s.Retry.Filter.When < -1 || int(s.Retry.Filter.When) >= len(v.bp.Exprs)) {
				v.fail("%s: negative timeout or retry setting, or jitter outside 0..1", sat)
			}
		}
	case OpNext:
		// The runtime moves the frame of the loop it names; it must be the
		// loop whose head it returns to.
		if t := in.Target; t >= 0 && int(t) < len(bp.Code) {
			if h := bp.Code[t]; h.Op != OpWhile || h.Node != in.Node {
				v.fail("%s: target %d is not the While head of the same node", at, t)
			}
		}
	}
}
