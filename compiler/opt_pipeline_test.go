package compiler

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/skript-dev/skript/blueprint"
)

// optGen builds random structured workflows directly in lowered form, with
// the shapes documented in blueprint.go, and the truth tables optSim runs
// them with.
type optGen struct {
	rng *rand.Rand
	bp  *blueprint.Blueprint
	sim *optSim
	// parents are the composite nodes around what is being generated,
	// innermost last; traps counts the traps among them.
	parents []int32
	traps   int
}

func genProgram(seed uint64) (*blueprint.Blueprint, *optSim) {
	g := &optGen{
		rng: rand.New(rand.NewPCG(seed, 7)),
		bp:  &blueprint.Blueprint{Name: fmt.Sprintf("gen%d", seed), Output: -1, Exprs: optExprs()},
		sim: &optSim{truth: map[int32]bool{}, whileN: map[int32]int{}, mapN: map[int32]int{}},
	}
	g.seq(0)
	g.emit(oEnd())
	g.sim.bp = g.bp
	return g.bp, g.sim
}

func (g *optGen) pc() int32 { return int32(len(g.bp.Code)) }

func (g *optGen) emit(in blueprint.Instr) int32 {
	g.bp.Code = append(g.bp.Code, in)
	return g.pc() - 1
}

func (g *optGen) node(kind, action string) int32 {
	n := int32(len(g.bp.Nodes))
	parent := int32(-1)
	if len(g.parents) > 0 {
		parent = g.parents[len(g.parents)-1]
	}
	g.bp.Nodes = append(g.bp.Nodes, blueprint.Node{ID: fmt.Sprintf("%s%d", kind, n), Kind: kind, Action: action, Loop: -1, Parent: parent})
	return n
}

// enter and leave bracket the children of composite node n.
func (g *optGen) enter(n int32) { g.parents = append(g.parents, n) }
func (g *optGen) leave()        { g.parents = g.parents[:len(g.parents)-1] }

// trap makes Parallel or Loop n a trap half the time inside one and a
// third of the time elsewhere; the caller emits collect after its resume.
func (g *optGen) trap(n int32) {
	if g.rng.IntN(3) == 0 {
		g.bp.Nodes[n].Trap = true
	}
	if g.bp.Nodes[n].Trap {
		g.traps++
	}
}

// race emits a Parallel with mode: first, as lowerRace does.
func (g *optGen) race(n int32, depth int) {
	g.bp.Nodes[n].Trap = true
	g.traps++
	g.enter(n)
	at := g.emit(blueprint.Instr{Op: blueprint.OpRace, Node: n, Expr: -1})
	k := 1 + g.rng.IntN(3)
	for range k {
		g.bp.Code[at].Targets = append(g.bp.Code[at].Targets, g.pc())
		g.seq(depth + 1)
		g.emit(blueprint.Instr{Op: blueprint.OpWin, Node: n, Expr: -1})
	}
	g.leave()
	g.bp.Code[at].Target = g.pc()
	g.emit(blueprint.Instr{Op: blueprint.OpWon, Node: n, Expr: -1, Max: k})
	j := g.emit(oJump(0))
	g.bp.Code[at].Else = g.pc()
	g.collect(n, depth)
	g.bp.Code[j].Target = g.pc()
}

// collect emits the Collect after the resume of n, as lowerCollect does,
// and ends n's trap.
func (g *optGen) collect(n int32, depth int) {
	trap := g.bp.Nodes[n].Trap
	if trap {
		g.traps--
	}
	if !trap && g.traps == 0 {
		return
	}
	in := blueprint.Instr{Op: blueprint.OpCollect, Node: n, Expr: -1}
	if trap {
		in.Handle = []string{"", blueprint.HandleContinue, blueprint.HandleCatch}[g.rng.IntN(3)]
	}
	at := g.emit(in)
	if in.Handle != blueprint.HandleCatch {
		return
	}
	j := g.emit(oJump(0))
	g.bp.Code[at].Target = g.pc()
	g.seq(depth + 1)
	g.emit(oLeaveFailed(n))
	g.bp.Code[j].Target = g.pc()
}

func (g *optGen) expr(src string) int32 {
	g.bp.Exprs = append(g.bp.Exprs, blueprint.Expr{Src: src})
	return int32(len(g.bp.Exprs) - 1)
}

// cond is a Branch condition: often constant, so fold and dce have work.
func (g *optGen) cond() int32 {
	switch g.rng.IntN(5) {
	case 0:
		return eTrue
	case 1:
		return eFalse
	case 2:
		return eOne
	default:
		e := g.expr("cond")
		g.sim.truth[e] = g.rng.IntN(2) == 0
		return e
	}
}

func (g *optGen) seq(depth int) {
	for range g.rng.IntN(4) {
		g.stmt(depth)
	}
}

func (g *optGen) stmt(depth int) {
	k := g.rng.IntN(13)
	if depth >= 3 {
		k = 0
	}
	switch k {
	case 0, 1, 2, 3, 4:
		g.action(depth)
	case 5:
		n := g.node("If", "")
		g.enter(n)
		defer g.leave()
		g.emit(oEnter(n))
		br := g.emit(oBranch(g.cond(), 0))
		g.bp.Code[br].Node = n
		// Each arm records the other's nodes skipped: here the If itself,
		// whose record a failure in the arm leaves showing.
		skip := blueprint.Instr{Op: blueprint.OpSkip, Node: n, Expr: -1, Deps: []int32{n}}
		g.emit(skip)
		g.seq(depth + 1)
		j := g.emit(oJump(0))
		g.bp.Code[br].Target = g.pc()
		if g.rng.IntN(2) == 0 {
			g.emit(skip.Clone())
			g.seq(depth + 1)
		}
		g.bp.Code[j].Target = g.pc()
		g.emit(oLeave(n))
	case 6:
		n := g.node("Switch", "")
		g.enter(n)
		defer g.leave()
		g.emit(oEnter(n))
		var jumps []int32
		for range 1 + g.rng.IntN(3) {
			br := g.emit(oBranch(g.cond(), 0))
			g.bp.Code[br].Node = n
			g.seq(depth + 1)
			jumps = append(jumps, g.emit(oJump(0)))
			g.bp.Code[br].Target = g.pc()
		}
		g.seq(depth + 1)
		for _, j := range jumps {
			g.bp.Code[j].Target = g.pc()
		}
		g.emit(oLeave(n))
	case 7, 8:
		n := g.node("Parallel", "")
		if g.rng.IntN(4) == 0 {
			g.race(n, depth)
			break
		}
		g.trap(n)
		g.enter(n)
		f := g.emit(oFork(n, 0))
		for range 1 + g.rng.IntN(3)*g.rng.IntN(2) { // one branch half the time
			g.bp.Code[f].Targets = append(g.bp.Code[f].Targets, g.pc())
			g.seq(depth + 1)
			g.emit(oJoin(n))
		}
		g.bp.Code[f].Target = g.pc()
		g.leave()
		g.collect(n, depth)
	case 9:
		n := g.node("Loop", "")
		g.bp.Nodes[n].Var = "item"
		g.trap(n)
		g.enter(n)
		e := g.expr("items")
		g.sim.mapN[e] = g.rng.IntN(3)
		m := g.emit(oMap(n, e, 0))
		g.seq(depth + 1)
		g.emit(oJoin(n))
		g.bp.Code[m].Target = g.pc()
		g.leave()
		g.collect(n, depth)
	case 10:
		n := g.node("Loop", "")
		var e int32
		switch g.rng.IntN(4) {
		case 0:
			e = eFalse
		case 1:
			e = eTrue // runs into max_iterations
		default:
			e = g.expr("iteration < k")
			g.sim.whileN[e] = g.rng.IntN(3)
		}
		g.enter(n)
		defer g.leave()
		g.emit(oEnter(n))
		h := g.emit(oWhile(n, e, 0))
		g.bp.Code[h].Max = 3
		g.bp.Code[h].Until = g.rng.IntN(3) == 0
		// A body statement sometimes ends the loop after it (break_if).
		var breaks []int32
		for range g.rng.IntN(4) {
			g.stmt(depth + 1)
			if g.rng.IntN(3) == 0 {
				br := g.emit(oBranch(g.cond(), 0))
				g.bp.Code[br].Node = n
				breaks = append(breaks, g.emit(blueprint.Instr{Op: blueprint.OpBreak, Node: n, Expr: -1}))
				g.bp.Code[br].Target = g.pc()
			}
		}
		g.emit(oNext(n, h))
		g.bp.Code[h].Target = g.pc()
		for _, b := range breaks {
			g.bp.Code[b].Target = g.pc()
		}
	case 11:
		in := oWait(eDur)
		in.Node = g.node("Wait", "")
		g.emit(in)
	case 12:
		if g.traps > 0 {
			g.action(depth) // a Graph inside a trap is refused
			break
		}
		g.graph(depth)
	}
}

// graph emits a Graph of up to four slots, each depending on a random
// set of earlier ones with a random trigger rule, as lowerGraph does.
func (g *optGen) graph(depth int) {
	n := g.node("Graph", "")
	g.enter(n)
	defer g.leave()
	at := g.emit(blueprint.Instr{Op: blueprint.OpGraph, Node: n, Expr: -1})
	k := 1 + g.rng.IntN(4)
	deps := make([][]int32, k)
	signals := make([][]blueprint.Signal, k)
	for i := range k {
		for j := range i {
			if g.rng.IntN(2) == 0 {
				signals[j] = append(signals[j], blueprint.Signal{Slot: int32(i), At: int32(len(deps[i]))})
				deps[i] = append(deps[i], int32(j))
			}
		}
	}
	rules := []string{blueprint.RuleAllSucceeded, blueprint.RuleAllDone, blueprint.RuleAnyFailed, blueprint.RuleNoneFailedMinOneSuccess}
	elems := make([]int32, k)
	var checked []int32
	for i := range k {
		g.bp.Code[at].Targets = append(g.bp.Code[at].Targets, g.pc())
		g.bp.Code[at].Needs = append(g.bp.Code[at].Needs, int32(len(deps[i])))
		// Every statement makes its node first.
		elems[i] = int32(len(g.bp.Nodes))
		trig := int32(-1)
		if len(deps[i]) > 0 {
			nodes := make([]int32, len(deps[i]))
			for x, j := range deps[i] {
				nodes[x] = elems[j]
			}
			trig = g.emit(blueprint.Instr{Op: blueprint.OpTrigger, Node: elems[i], Expr: -1,
				Rule: rules[g.rng.IntN(len(rules))], Deps: nodes})
		}
		g.stmt(depth + 1)
		if trig >= 0 {
			g.bp.Code[trig].Target = g.pc()
		}
		if len(signals[i]) > 0 {
			g.emit(blueprint.Instr{Op: blueprint.OpSignal, Node: elems[i], Expr: -1, Signals: signals[i]})
		}
		g.emit(oJoin(n))
		if g.rng.IntN(3) == 0 {
			checked = append(checked, elems[i])
		}
	}
	g.bp.Code[at].Target = g.pc()
	if len(checked) > 0 {
		g.emit(blueprint.Instr{Op: blueprint.OpCheck, Node: n, Expr: -1, Deps: checked})
	}
}

// action emits an Action: sometimes the fail action, sometimes with
// on_error: continue, sometimes with a catch block.
func (g *optGen) action(depth int) {
	act := "log"
	if g.rng.IntN(8) == 0 {
		act = blueprint.FailAction
	}
	n := g.node("Action", act)
	in := blueprint.Instr{Op: blueprint.OpTask, Node: n, Expr: -1,
		Steps: []blueprint.Step{{Node: n, Action: act, Params: -1, Catch: -1}}}
	switch g.rng.IntN(6) {
	case 0:
		in.Steps[0].Continue = true
	case 1:
		t := g.emit(in)
		j := g.emit(oJump(0))
		g.bp.Code[t].Steps[0].Catch = g.pc()
		g.seq(depth + 1)
		g.emit(oLeaveFailed(n))
		g.bp.Code[j].Target = g.pc()
		return
	}
	g.emit(in)
}

// TestPassesKeepRuns is the optimizer's contract: any subset of the passes,
// run in order, leaves every run the same. Random workflows are run by the
// reference interpreter before and after.
func TestPassesKeepRuns(t *testing.T) {
	programs := 400
	if testing.Short() {
		programs = 50
	}
	changed := map[string]int{}
	statuses := map[string]int{}
	for seed := range uint64(programs) {
		bp, sim := genProgram(seed)
		if err := blueprint.Validate(bp); err != nil {
			t.Fatalf("seed %d: generated program does not validate: %v\n%s", seed, err, blueprint.Text(bp))
		}
		want := sim.run()
		statuses[want.Status]++
		seen := map[blueprint.Op]bool{}
		for _, in := range bp.Code {
			if (in.Op == blueprint.OpGraph || in.Op == blueprint.OpBreak || in.Op == blueprint.OpCollect || in.Op == blueprint.OpSkip || in.Op == blueprint.OpRace) && !seen[in.Op] {
				seen[in.Op] = true
				statuses["has a "+in.Op.String()]++
			}
		}
		for mask := range 1 << len(Passes) {
			c := cloneProgram(bp)
			for i, p := range Passes {
				if mask&(1<<i) == 0 {
					continue
				}
				before := cloneCode(c.Code)
				p.Run(c)
				if err := blueprint.Validate(c); err != nil {
					t.Fatalf("seed %d: after %s (mask %b): %v\n%s", seed, p.Name, mask, err, blueprint.Text(c))
				}
				if mask == 1<<i && !codeEqual(before, c.Code) {
					changed[p.Name]++
				}
			}
			s := *sim
			s.bp = c
			if got := s.run(); got != want {
				t.Fatalf("seed %d, passes %s: the run changed\n--- before\n%s%+v\n--- after\n%s%+v",
					seed, maskNames(mask), blueprint.Text(bp), want, blueprint.Text(c), got)
			}
			if mask == 1<<len(Passes)-1 {
				again := cloneProgram(c)
				for _, p := range Passes {
					p.Run(again)
				}
				if !codeEqual(again.Code, c.Code) {
					t.Fatalf("seed %d: a second run of all passes changed the program\n%s\n--- to\n%s",
						seed, blueprint.Text(c), blueprint.Text(again))
				}
			}
		}
	}
	t.Logf("programs changed by each pass alone: %v; run outcomes: %v", changed, statuses)
	// The generator must exercise every pass, or this test proves little.
	for _, p := range Passes {
		if changed[p.Name] == 0 {
			t.Errorf("no generated program was changed by %s", p.Name)
		}
	}
	if statuses["has a Graph"] == 0 || statuses["has a Break"] == 0 || statuses["has a Collect"] == 0 || statuses["has a Race"] == 0 {
		t.Errorf("no generated program has a graph or a break: %v", statuses)
	}
	if statuses["succeeded"] == 0 || statuses["failed"] == 0 {
		t.Errorf("the generated runs do not both succeed and fail: %v", statuses)
	}
}

func maskNames(mask int) string {
	s := "["
	for i, p := range Passes {
		if mask&(1<<i) != 0 {
			s += " " + p.Name
		}
	}
	return s + " ]"
}

func cloneProgram(bp *blueprint.Blueprint) *blueprint.Blueprint {
	c := *bp
	c.Code = cloneCode(bp.Code)
	return &c
}

func TestPassOrderAndNames(t *testing.T) {
	want := []string{"fold", "dce", "thread", "parallel1", "fuse"}
	if len(Passes) != len(want) {
		t.Fatalf("%d passes, want %d", len(Passes), len(want))
	}
	for i, p := range Passes {
		if p.Name != want[i] || p.Doc == "" || p.Run == nil {
			t.Errorf("pass %d = %q (doc %q), want %q with a doc and a Run", i, p.Name, p.Doc, want[i])
		}
	}
}

func TestOptimizeDisabled(t *testing.T) {
	bp := optProg(oTask(nA), oTask(nB), oEnd())
	optimize(bp, map[string]bool{"fuse": true})
	if len(bp.Code) != 3 {
		t.Errorf("fuse ran although disabled:\n%s", blueprint.Text(bp))
	}
	optimize(bp, nil)
	if len(bp.Code) != 2 {
		t.Errorf("fuse did not run:\n%s", blueprint.Text(bp))
	}
}

// TestPipeline follows one program through every pass.
func TestPipeline(t *testing.T) {
	bp := optProg(
		oTask(nA),          // 0
		oEnter(nIf),        // 1
		oBranch(eFalse, 5), // 2
		oTask(nB),          // 3
		oJump(6),           // 4
		oTask(nC),          // 5
		oLeave(nIf),        // 6
		oFork(nPar, 10, 8), // 7
		oTask(nD),          // 8
		oJoin(nPar),        // 9
		oTask(nE),          // 10
		oTask(nBoom),       // 11
		oEnd(),             // 12
	)
	steps := []optCode{
		// fold: the constant false condition becomes a jump to the else.
		{oTask(nA), oEnter(nIf), oOp(blueprint.OpJump, nIf, 5), oTask(nB), oJump(6), oTask(nC), oLeave(nIf),
			oFork(nPar, 10, 8), oTask(nD), oJoin(nPar), oTask(nE), oTask(nBoom), oEnd()},
		// dce: the then-branch and the End after the failure go.
		{oTask(nA), oEnter(nIf), oOp(blueprint.OpJump, nIf, 3), oTask(nC), oLeave(nIf),
			oFork(nPar, 8, 6), oTask(nD), oJoin(nPar), oTask(nE), oTask(nBoom)},
		// thread: the jump to the next instruction goes.
		{oTask(nA), oEnter(nIf), oTask(nC), oLeave(nIf),
			oFork(nPar, 7, 5), oTask(nD), oJoin(nPar), oTask(nE), oTask(nBoom)},
		// parallel1: the one-branch Parallel runs in line.
		{oTask(nA), oEnter(nIf), oTask(nC), oLeave(nIf),
			oEnter(nPar), oTask(nD), oLeaveWrap(nPar), oTask(nE), oTask(nBoom)},
		// fuse: e and boom run as one task.
		{oTask(nA), oEnter(nIf), oTask(nC), oLeave(nIf),
			oEnter(nPar), oTask(nD), oLeaveWrap(nPar), oTask(nE, nBoom)},
	}
	for i, p := range Passes {
		p.Run(bp)
		checkProgram(t, bp)
		if want := optProg(steps[i]...); !codeEqual(bp.Code, want.Code) {
			t.Fatalf("after %s\n%s\nwant\n%s", p.Name, blueprint.Text(bp), blueprint.Text(want))
		}
	}
}
