package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/skript-dev/skript/blueprint"
)

// optSim is a reference interpreter of the Blueprint semantics written in
// blueprint.go, small enough to trust: it runs Fork children and Map
// iterations one after another in order, which makes a run deterministic, so
// the optimizer can be checked by comparing whole runs before and after.
// Run-time conditions read a fixed truth table instead of evaluating
// expressions: passes never touch the expression table.
type optSim struct {
	bp *blueprint.Blueprint
	// truth is the value of each non-constant Branch condition; whileN and
	// mapN give the iterations of each non-constant While or Map.
	truth  map[int32]bool
	whileN map[int32]int
	mapN   map[int32]int

	records map[string]string // "frame|node" -> status and output
	trace   []string          // steps run, in order, as node@frame
	budget  int
	// graphs are the Graphs being run, innermost last: a Signal reaches
	// the innermost one's waiting slots.
	graphs []*simGraph
	// breakTo is the target of the last Break run.
	breakTo int32
}

// simGraph is a running Graph: what each slot still waits for, and the
// slots ready to run, in the order they became ready.
type simGraph struct {
	need  []int32
	ready []int
}

// simResult is everything observable about a run.
type simResult struct {
	Status  string
	Output  string
	Records string
	Trace   string
}

// simStop says why a stretch of code stopped running.
type simStop int

const (
	stopJoin  simStop = iota // a Fork child or Map iteration ended
	stopNext                 // a while iteration ended
	stopEnd                  // the run succeeded
	stopFail                 // the run failed
	stopBreak                // a Break left a while loop (at breakTo)
	stopTrap                 // a failure ended a trap's branch or iteration
	stopWin                  // a race's branch succeeded
)

type simError struct{ msg string }

func (s *optSim) run() simResult {
	s.records = map[string]string{}
	s.trace = nil
	s.budget = 100000
	stop, last, err := s.exec(0, "", nil)
	r := simResult{Output: show(last), Trace: strings.Join(s.trace, " ")}
	switch {
	case err != nil:
		r.Status = "error: " + err.msg
	case stop == stopEnd:
		r.Status = "succeeded"
	case stop == stopFail:
		r.Status = "failed"
	default:
		r.Status = fmt.Sprintf("stopped (%d) at top level", stop)
	}
	keys := make([]string, 0, len(s.records))
	for k, v := range s.records {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	r.Records = strings.Join(keys, "\n")
	return r
}

func (s *optSim) record(frame string, node int32, status string, out any) {
	s.records[frame+"|"+s.bp.Nodes[node].ID] = status + " " + show(out)
}

func show(v any) string { return fmt.Sprintf("%v", v) }

// exec runs from pc in frame with the given last value until the code stops
// and returns why, and the last value then.
func (s *optSim) exec(pc int32, frame string, last any) (simStop, any, *simError) {
	bp := s.bp
	for {
		if s.budget--; s.budget < 0 {
			return 0, nil, &simError{"step budget exhausted"}
		}
		if pc < 0 || int(pc) >= len(bp.Code) {
			return 0, nil, &simError{fmt.Sprintf("pc %d out of range", pc)}
		}
		in := &bp.Code[pc]
		switch in.Op {
		case blueprint.OpNop:
			pc++
		case blueprint.OpTask:
			next := pc + 1
			for _, st := range in.Steps {
				id := bp.Nodes[st.Node].ID
				s.trace = append(s.trace, id+"@"+frame)
				if st.Action != blueprint.FailAction {
					last = id + "@" + frame
					s.record(frame, st.Node, "succeeded", last)
					continue
				}
				if st.Continue {
					last = "{error " + id + "}"
					s.record(frame, st.Node, "failed", last)
					continue
				}
				s.record(frame, st.Node, "failed", "error")
				if st.Catch < 0 {
					return s.failed(st.Node, last)
				}
				next, last = st.Catch, nil
				break
			}
			pc = next
		case blueprint.OpFork:
			s.record(frame, in.Node, "running", nil)
			var outs []any
			for _, t := range in.Targets {
				stop, v, err := s.exec(t, frame, nil)
				if err != nil || stop == stopFail {
					return stop, v, err
				}
				if stop == stopTrap {
					stop = stopJoin
				}
				if stop != stopJoin {
					return 0, nil, &simError{fmt.Sprintf("fork child from %d stopped with %d", t, stop)}
				}
				outs = append(outs, v)
			}
			last = outs
			s.record(frame, in.Node, "succeeded", last)
			pc = in.Target
		case blueprint.OpJoin:
			return stopJoin, last, nil
		case blueprint.OpJump:
			pc = in.Target
		case blueprint.OpBranch:
			if s.cond(in.Expr) {
				pc++
			} else {
				pc = in.Target
			}
		case blueprint.OpMap:
			n := s.count(s.mapN, in.Expr)
			outs := []any{}
			for i := range n {
				stop, v, err := s.exec(pc+1, fmt.Sprintf("%s/%s[%d]", frame, bp.Nodes[in.Node].ID, i), nil)
				if err != nil || stop == stopFail {
					return stop, v, err
				}
				if stop == stopTrap {
					stop = stopJoin
				}
				if stop != stopJoin {
					return 0, nil, &simError{fmt.Sprintf("map iteration at %d stopped with %d", pc, stop)}
				}
				outs = append(outs, v)
			}
			last = outs
			s.record(frame, in.Node, "succeeded", last)
			pc = in.Target
		case blueprint.OpWait:
			if in.Node >= 0 {
				s.record(frame, in.Node, "succeeded", nil)
			}
			pc++
		case blueprint.OpEnter:
			s.record(frame, in.Node, "running", nil)
			last = nil
			pc++
		case blueprint.OpLeave:
			if in.Wrap {
				last = []any{last}
			}
			status := "succeeded"
			if in.Failed {
				status = "failed"
			}
			s.record(frame, in.Node, status, last)
			pc++
		case blueprint.OpWhile:
			outs := []any{}
			next := in.Target
			for i := 0; ; i++ {
				if !s.loops(in, i) {
					break
				}
				if i >= in.Max {
					s.record(frame, in.Node, "failed", "max_iterations")
					return s.failed(in.Node, last)
				}
				stop, v, err := s.exec(pc+1, fmt.Sprintf("%s/%s[%d]", frame, bp.Nodes[in.Node].ID, i), nil)
				if err != nil || stop == stopFail || stop == stopTrap {
					return stop, v, err
				}
				if stop == stopBreak {
					outs = append(outs, v)
					next = s.breakTo
					break
				}
				if stop != stopNext {
					return 0, nil, &simError{fmt.Sprintf("while body at %d stopped with %d", pc, stop)}
				}
				outs = append(outs, v)
			}
			last = outs
			s.record(frame, in.Node, "succeeded", last)
			pc = next
		case blueprint.OpNext:
			return stopNext, last, nil
		case blueprint.OpRace:
			s.record(frame, in.Node, "running", nil)
			// Branches run in order; the first to succeed wins and the
			// others do not run.
			var fails []any
			won := false
			for i, t := range in.Targets {
				stop, v, err := s.exec(t, frame, nil)
				if err != nil || stop == stopFail {
					return stop, v, err
				}
				if stop == stopTrap {
					fails = append(fails, simFailure)
					continue
				}
				if stop != stopWin {
					return 0, nil, &simError{fmt.Sprintf("race branch %d stopped with %d", i, stop)}
				}
				last, won = []any{fmt.Sprintf("{won %d %v}", i, v)}, true
				break
			}
			if won {
				pc = in.Target
			} else {
				last = fails
				s.record(frame, in.Node, "succeeded", last)
				pc = in.Else
			}
		case blueprint.OpWin:
			return stopWin, last, nil
		case blueprint.OpWon:
			if l, ok := last.([]any); ok && len(l) == 1 {
				last = l[0]
			}
			s.record(frame, in.Node, "succeeded", last)
			pc++
		case blueprint.OpSkip:
			for _, d := range in.Deps {
				s.record(frame, d, "skipped", nil)
			}
			pc++
		case blueprint.OpBreak:
			s.breakTo = in.Target
			return stopBreak, last, nil
		case blueprint.OpCollect:
			list, _ := last.([]any)
			n := 0
			for _, v := range list {
				if v == simFailure {
					n++
				}
			}
			switch {
			case n == 0:
				pc++
			case in.Handle == blueprint.HandleContinue:
				last = fmt.Sprintf("{failures %d}", n)
				s.record(frame, in.Node, "failed", last)
				pc++
			case in.Handle == blueprint.HandleCatch:
				s.record(frame, in.Node, "failed", fmt.Sprintf("{failures %d}", n))
				last = nil
				pc = in.Target
			default:
				s.record(frame, in.Node, "failed", fmt.Sprintf("%d failures", n))
				return s.failed(in.Node, last)
			}
		case blueprint.OpGraph:
			stop, v, err := s.graph(in, frame)
			if err != nil || stop == stopFail {
				return stop, v, err
			}
			last = v
			pc = in.Target
		case blueprint.OpTrigger:
			if s.trigger(in, frame) {
				pc++
			} else {
				s.record(frame, in.Node, "skipped", nil)
				last = nil
				pc = in.Target
			}
		case blueprint.OpSignal:
			g := s.graphs[len(s.graphs)-1]
			for _, sg := range in.Signals {
				if g.need[sg.Slot]--; g.need[sg.Slot] == 0 {
					g.ready = append(g.ready, int(sg.Slot))
				}
			}
			pc++
		case blueprint.OpCheck:
			for _, d := range in.Deps {
				if s.status(frame, d) == "failed" {
					s.record(frame, in.Node, "failed", "unhandled")
					return stopFail, last, nil
				}
			}
			pc++
		case blueprint.OpEnd:
			return stopEnd, last, nil
		default:
			return 0, nil, &simError{fmt.Sprintf("opcode %v", in.Op)}
		}
	}
}

// cond evaluates a Branch condition: constants as the runtime would (only
// the bool true is true), others from the truth table.
func (s *optSim) cond(e int32) bool {
	if x := s.bp.Exprs[e]; x.Const {
		b, ok := x.Value.(bool)
		return ok && b
	}
	return s.truth[e]
}

// simFailure is the value a failed branch or iteration of a trap hands to
// its group.
const simFailure = "#failed"

// failed ends what runs after node failed, unhandled: its branch or
// iteration, when a trap holds it (the group gets simFailure), else the
// run.
func (s *optSim) failed(node int32, last any) (simStop, any, *simError) {
	for p, n := s.bp.Nodes[node].Parent, 0; p >= 0 && n < len(s.bp.Nodes); p, n = s.bp.Nodes[p].Parent, n+1 {
		if s.bp.Nodes[p].Trap {
			return stopTrap, simFailure, nil
		}
	}
	return stopFail, last, nil
}

// loops says whether a while loop runs iteration i: an until loop runs
// its first without a test, then until its condition holds (a constant
// one, or after whileN iterations).
func (s *optSim) loops(in *blueprint.Instr, i int) bool {
	if !in.Until {
		return s.whileCond(in.Expr, i)
	}
	if i == 0 {
		return true
	}
	if x := s.bp.Exprs[in.Expr]; x.Const {
		b, ok := x.Value.(bool)
		return !(ok && b)
	}
	return i < s.whileN[in.Expr]
}

func (s *optSim) whileCond(e int32, iteration int) bool {
	if x := s.bp.Exprs[e]; x.Const {
		b, ok := x.Value.(bool)
		return ok && b
	}
	return iteration < s.whileN[e]
}

func (s *optSim) count(table map[int32]int, e int32) int {
	if x := s.bp.Exprs[e]; x.Const {
		if l, ok := x.Value.([]any); ok {
			return len(l)
		}
		return 0
	}
	return table[e]
}

// graph runs a Graph's slots one at a time, each once every slot it
// depends on has signalled it, in the order they became ready.
func (s *optSim) graph(in *blueprint.Instr, frame string) (simStop, any, *simError) {
	g := &simGraph{need: append([]int32(nil), in.Needs...)}
	for i, n := range in.Needs {
		if n == 0 {
			g.ready = append(g.ready, i)
		}
	}
	s.graphs = append(s.graphs, g)
	defer func() { s.graphs = s.graphs[:len(s.graphs)-1] }()
	s.record(frame, in.Node, "running", nil)
	outs := make([]any, len(in.Targets))
	done := 0
	for len(g.ready) > 0 {
		i := g.ready[0]
		g.ready = g.ready[1:]
		stop, v, err := s.exec(in.Targets[i], frame, nil)
		if err != nil || stop == stopFail {
			return stop, v, err
		}
		if stop != stopJoin {
			return 0, nil, &simError{fmt.Sprintf("graph slot %d stopped with %d", i, stop)}
		}
		outs[i] = v
		done++
	}
	if done != len(in.Targets) {
		return 0, nil, &simError{fmt.Sprintf("graph ran %d of %d slots", done, len(in.Targets))}
	}
	s.record(frame, in.Node, "succeeded", outs)
	return stopJoin, outs, nil
}

// status is the status of node's record in frame ("" when it has none).
func (s *optSim) status(frame string, node int32) string {
	r := s.records[frame+"|"+s.bp.Nodes[node].ID]
	st, _, _ := strings.Cut(r, " ")
	return st
}

// trigger evaluates a Trigger's rule as the runtime does.
func (s *optSim) trigger(in *blueprint.Instr, frame string) bool {
	var ok, failed int
	for _, d := range in.Deps {
		switch s.status(frame, d) {
		case "succeeded":
			ok++
		case "failed":
			failed++
		}
	}
	switch in.Rule {
	case blueprint.RuleAllDone:
		return true
	case blueprint.RuleAnyFailed:
		return failed > 0
	case blueprint.RuleNoneFailedMinOneSuccess:
		return failed == 0 && ok > 0
	}
	return ok == len(in.Deps)
}
