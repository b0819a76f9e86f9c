package blueprint

// This file states the control-flow graph of a program once, so that the
// validator, the optimizer and the pictures agree on where control can go.

// FailAction is the built-in action that always fails. The compiler and the
// validator know it by name because a step running it never continues to the
// next step (unless on_error is continue), which makes the code after it dead.
const FailAction = "fail"

// Fails reports whether the step never lets its Task go on to the next step:
// it runs the fail action without on_error: continue. Its catch block, if
// any, is still reached.
func (s Step) Fails() bool {
	return s.Action == FailAction && !s.Continue
}

// FallsThrough reports whether control can continue at pc+1 after the
// instruction (including a Wait or Map resuming there, or a Branch or While
// whose condition holds).
func (in *Instr) FallsThrough() bool {
	switch in.Op {
	case OpFork, OpGraph, OpRace, OpJoin, OpWin, OpJump, OpNext, OpBreak, OpEnd:
		return false
	case OpTask:
		for _, s := range in.Steps {
			if s.Fails() {
				return false
			}
		}
		return true
	default:
		return true
	}
}

// UsesTarget reports whether the opcode gives Target a meaning; for other
// opcodes Target is unused and must not be read as a pc.
func (o Op) UsesTarget() bool {
	switch o {
	case OpFork, OpGraph, OpRace, OpJump, OpBranch, OpMap, OpWhile, OpNext, OpTrigger, OpBreak:
		return true
	}
	return false
}

// UsesExpr reports whether the opcode requires an expression (Enter's
// expression, the args of a Call, is optional and not counted).
func (o Op) UsesExpr() bool {
	switch o {
	case OpBranch, OpMap, OpWait, OpWhile:
		return true
	}
	return false
}

// VisitPCs calls f with a pointer to every field of the instruction that
// holds a pc: Target (when the opcode uses it), each Fork target, and each
// step's Catch that is set. Rewriting passes use it so that no pc reference
// is forgotten when instructions move.
func (in *Instr) VisitPCs(f func(pc *int32)) {
	if in.Op.UsesTarget() || in.catches() {
		f(&in.Target)
	}
	if in.Op == OpFork || in.Op == OpGraph || in.Op == OpRace {
		for i := range in.Targets {
			f(&in.Targets[i])
		}
	}
	if in.Op == OpRace {
		f(&in.Else)
	}
	if in.Op == OpTask {
		for i := range in.Steps {
			if in.Steps[i].Catch >= 0 {
				f(&in.Steps[i].Catch)
			}
		}
	}
}

// catches says whether the instruction is a Collect with a catch block
// at Target.
func (in *Instr) catches() bool { return in.Op == OpCollect && in.Handle == HandleCatch }

// Clone returns a copy of the instruction that shares no slice with it, so
// that rewriting one copy's pcs cannot change the other.
func (in Instr) Clone() Instr {
	if in.Targets != nil {
		in.Targets = append([]int32(nil), in.Targets...)
	}
	if in.Steps != nil {
		in.Steps = append([]Step(nil), in.Steps...)
	}
	if in.Needs != nil {
		in.Needs = append([]int32(nil), in.Needs...)
	}
	if in.Deps != nil {
		in.Deps = append([]int32(nil), in.Deps...)
	}
	if in.Signals != nil {
		in.Signals = append([]Signal(nil), in.Signals...)
	}
	return in
}

// EdgeKind says why control moves along an edge; pictures style edges by it.
type EdgeKind uint8

// Edge kinds.
const (
	EdgeNext   EdgeKind = iota // fall through to pc+1
	EdgeJump                   // unconditional Jump, or Next back to its While head
	EdgeTrue                   // Branch or While condition holds
	EdgeFalse                  // Branch or While condition does not hold
	EdgeFork                   // entry of a Fork child
	EdgeEach                   // entry of a Map iteration
	EdgeResume                 // where a Fork or Map resumes after its children
	EdgeCatch                  // a step's catch block
)

var edgeNames = [...]string{"next", "jump", "true", "false", "fork", "each", "resume", "catch"}

// String returns the edge kind's name, used as an edge label.
func (k EdgeKind) String() string {
	if int(k) < len(edgeNames) {
		return edgeNames[k]
	}
	return "edge(?)"
}

// Edge is one possible move of control from the instruction at From to To.
type Edge struct {
	From, To int32
	Kind     EdgeKind
}

// Edges appends to dst every edge leaving the instruction at pc and returns
// the extended slice. Duplicate edges (two steps sharing a catch block) are
// listed once. It does not check that targets are in range.
func (in *Instr) Edges(pc int32, dst []Edge) []Edge {
	start := len(dst)
	add := func(to int32, k EdgeKind) {
		for _, e := range dst[start:] {
			if e.To == to && e.Kind == k {
				return
			}
		}
		dst = append(dst, Edge{From: pc, To: to, Kind: k})
	}
	switch in.Op {
	case OpTask:
		for _, s := range in.Steps {
			if s.Catch >= 0 {
				add(s.Catch, EdgeCatch)
			}
		}
		if in.FallsThrough() {
			add(pc+1, EdgeNext)
		}
	case OpFork, OpGraph, OpRace:
		if in.Op == OpRace {
			add(in.Else, EdgeResume)
		}
		if len(in.Targets) <= 8 {
			for _, t := range in.Targets {
				add(t, EdgeFork)
			}
		} else {
			// add looks at every edge so far: a wide Fork would be
			// quadratic in its branches.
			seen := make(map[int32]bool, len(in.Targets))
			for _, t := range in.Targets {
				if !seen[t] {
					seen[t] = true
					dst = append(dst, Edge{From: pc, To: t, Kind: EdgeFork})
				}
			}
		}
		add(in.Target, EdgeResume)
	case OpCollect:
		if in.catches() {
			add(in.Target, EdgeCatch)
		}
		add(pc+1, EdgeNext)
	case OpJoin, OpWin, OpEnd:
	case OpJump, OpNext, OpBreak:
		add(in.Target, EdgeJump)
	case OpBranch, OpWhile, OpTrigger:
		add(pc+1, EdgeTrue)
		add(in.Target, EdgeFalse)
	case OpMap:
		add(pc+1, EdgeEach)
		add(in.Target, EdgeResume)
	default: // Nop, Wait, Enter, Leave, Signal, Check
		add(pc+1, EdgeNext)
	}
	return dst
}

// Edges returns every edge of the program, in pc order.
func (bp *Blueprint) Edges() []Edge {
	var out []Edge
	for pc := range bp.Code {
		out = bp.Code[pc].Edges(int32(pc), out)
	}
	return out
}
