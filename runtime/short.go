package runtime

import (
	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/store"
)

// A short task is one a worker runs on one of its own goroutines, between
// other tasks, instead of giving it a goroutine (and a cancellable context)
// of its own: it cannot block. That holds when every action it runs is
// marked Inline (noop, set, log, fail: they return at once) and computing
// its transition reads nothing from a store across the network. Reads from
// a store that keeps runs in this process (store.Capabilities.Local) never block, so
// there only the actions matter.
//
// Short tasks are what makes a wide fan-out of small actions cheap: no
// goroutine start, no stack growth, no per-task context, no registration
// for cancellation (a short task of a run that has just ended produces a
// stale transition, which the store ignores, exactly like the
// acknowledgement the cancellation path would send).

// shortInfo says which tasks of a program are short, by pc.
type shortInfo struct {
	exec   []bool // an Exec task at pc, from its first step
	resume []bool // a Resume at pc without a Last record to read
	timer  []bool // a Timer at pc
}

// classify computes which tasks are short. reg is the engine's registry
// (an action missing now is not short: the normal path reports it); local
// says the store's reads are local.
func classify(p *program, reg *action.Registry, local bool) shortInfo {
	code := p.bp.Code
	si := shortInfo{exec: make([]bool, len(code)), resume: make([]bool, len(code)), timer: make([]bool, len(code))}
	r := &readScan{p: p, memo: make([]int8, len(code))}
	for pc := range code {
		in := &code[pc]
		si.resume[pc] = local || !r.reads(int32(pc))
		switch in.Op {
		case blueprint.OpTask:
			ok := true
			for k := range in.Steps {
				st := &in.Steps[k]
				a, found := reg.Lookup(st.Action)
				if !found || !a.Inline {
					ok = false
					break
				}
				if !local && (r.exprReads(st.Params) || (st.Catch >= 0 && r.reads(st.Catch))) {
					ok = false
					break
				}
			}
			si.exec[pc] = ok && (local || !r.reads(int32(pc)+1))
		case blueprint.OpWait:
			si.timer[pc] = local || !r.reads(int32(pc)+1)
		}
	}
	return si
}

// isShort reports whether task t of program p is short.
func (p *program) isShort(t *store.Task) bool {
	if t.PC < 0 || int(t.PC) >= len(p.short.exec) {
		return false // the normal path reports the bad pc
	}
	switch t.Kind {
	case store.Exec:
		// A retry from a later fused step runs a subset of the steps: the
		// flag for the whole task covers it.
		return p.short.exec[t.PC]
	case store.Resume:
		return p.short.resume[t.PC] && (t.Last == nil || p.localReads)
	case store.Timer:
		return p.short.timer[t.PC]
	}
	return false
}

// readScan finds out whether advancing a token inline from a pc may read
// records from the store: it follows control flow the way vm.step does,
// to every place a token (or a child token started on the way) stops.
type readScan struct {
	p    *program
	memo []int8 // 0 unknown, 1 reads, 2 does not, 3 being visited
}

func (r *readScan) exprReads(i int32) bool {
	if i < 0 || int(i) >= len(r.p.bp.Exprs) {
		return false
	}
	e := &r.p.bp.Exprs[i]
	if e.Const {
		return false
	}
	if len(e.Refs) > 0 {
		return true
	}
	for _, v := range e.Vars {
		switch v.Kind {
		case blueprint.VarItem, blueprint.VarParams, blueprint.VarError, blueprint.VarPrevious:
			return true
		}
	}
	return false
}

// reads reports whether advancing from pc may read the store. A cycle
// (a while loop with no task in its body) is assumed not to read by
// itself; whatever it reaches is still checked.
func (r *readScan) reads(pc int32) bool {
	code := r.p.bp.Code
	if pc < 0 || int(pc) >= len(code) {
		return true // the VM reports it; be conservative
	}
	switch r.memo[pc] {
	case 1:
		return true
	case 2, 3:
		return false
	}
	r.memo[pc] = 3
	res := r.scan(pc)
	if res {
		r.memo[pc] = 1
	} else {
		r.memo[pc] = 2
	}
	return res
}

func (r *readScan) scan(pc int32) bool {
	in := &r.p.bp.Code[pc]
	switch in.Op {
	case blueprint.OpTask, blueprint.OpJoin:
		return false
	case blueprint.OpNop, blueprint.OpEnter:
		return r.exprReads(in.Expr) || r.reads(pc+1)
	case blueprint.OpJump, blueprint.OpNext:
		return r.reads(in.Target)
	case blueprint.OpBranch:
		return r.exprReads(in.Expr) || r.reads(pc+1) || r.reads(in.Target)
	case blueprint.OpLeave:
		return in.Failed || r.reads(pc+1)
	case blueprint.OpFork:
		for _, t := range in.Targets {
			if r.reads(t) {
				return true
			}
		}
		return false
	case blueprint.OpMap:
		return r.exprReads(in.Expr) || r.reads(pc+1) || r.reads(in.Target)
	case blueprint.OpWait:
		return r.exprReads(in.Expr)
	case blueprint.OpWhile:
		// Leaving the loop reads every iteration's record.
		return true
	case blueprint.OpEnd:
		return r.exprReads(r.p.bp.Output)
	}
	return true
}
