package compiler

import (
	"fmt"
	"strings"
	"time"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/dsl"
	skexpr "github.com/skript-dev/skript/expr"
	"github.com/skript-dev/skript/value"
)

// lower emits the instruction arena from the inlined tree, following the
// shapes documented in package blueprint:
//
//	Action    Task{step}                         (catch: Task; Jump L; C: catch…; Leave failed; L:)
//	Parallel  Fork{targets, resume}; branch…; Join …
//	If        Enter; Branch cond→E; then…; Jump L; E: else…; L: Leave
//	Switch    Enter; Branch when1→C2; nodes1…; Jump L; C2: … ; default…; L: Leave
//	for_each  Map{list→X}; body…; Join; X:
//	while     Enter; H: While{cond→X}; body…; Next→H; X:
//	until     Enter; H: While until{cond→X}; body…; Next→H; X:
//	break_if  (after the node in the body) Branch brk→C; Break→X; C:
//	Call      Enter{args}; body…; Leave
//	Wait      Wait{expr}
//	Graph     Graph{entries, needs→X}; per node: [Trigger deps→D;] node…; D: [Signal;] Join …; X: [Check]
//
// and End after the top-level sequence; the finally nodes, if any, follow
// it, with an End of their own, at Blueprint.Finally.
func (c *compiler) lower() {
	// Most nodes emit one or two instructions; sizing the arena once
	// spares the copies of a growing slice on large workflows.
	c.bp.Code = make([]blueprint.Instr, 0, 2*len(c.nodes)+1)
	c.lowerInputs()
	c.lowerSeq(c.top)
	c.emit(blueprint.Instr{Op: blueprint.OpEnd, Node: -1, Expr: -1})
	if len(c.fin) > 0 {
		// The finally nodes' own entry: the run's Finally task starts
		// there, and their End ends the run with the end it came to.
		c.bp.Finally = c.pc()
		c.lowerSeq(c.fin)
		c.emit(blueprint.Instr{Op: blueprint.OpEnd, Node: -1, Expr: -1})
	}
}

func (c *compiler) lowerInputs() {
	for _, in := range c.wf.Inputs {
		if in == nil {
			continue
		}
		bi := blueprint.Input{Name: in.Name, Type: in.Type, Required: in.Required, Description: in.Description}
		if in.Default != nil && in.Default.Kind != dsl.Null {
			bi.Default, bi.HasDefault = value.Normalize(in.Default.Go()), true
		}
		c.bp.Inputs = append(c.bp.Inputs, bi)
	}
}

// emit appends an instruction and returns its pc.
func (c *compiler) emit(in blueprint.Instr) int32 {
	c.bp.Code = append(c.bp.Code, in)
	return int32(len(c.bp.Code) - 1)
}

func (c *compiler) pc() int32 { return int32(len(c.bp.Code)) }

func (c *compiler) lowerSeq(seq []*inode) {
	for _, x := range seq {
		c.lowerNode(x)
	}
}

func (c *compiler) lowerNode(x *inode) {
	op := func(o blueprint.Op) blueprint.Instr {
		return blueprint.Instr{Op: o, Node: x.idx, Expr: -1}
	}
	n := x.n
	switch n.Kind {
	case "Action":
		c.lowerAction(x)
	case "Parallel":
		if races(n) {
			c.lowerRace(x, op)
			break
		}
		fork := op(blueprint.OpFork)
		fork.Concurrency = n.MaxConcurrency
		at := c.emit(fork)
		var targets []int32
		for _, b := range x.branches {
			targets = append(targets, c.pc())
			c.lowerSeq(b)
			c.emit(op(blueprint.OpJoin))
		}
		c.bp.Code[at].Targets = targets
		c.bp.Code[at].Target = c.pc()
		c.lowerCollect(x)
	case "If":
		c.emit(op(blueprint.OpEnter))
		br := op(blueprint.OpBranch)
		br.Expr = x.cond
		at := c.emit(br)
		c.skip(x, armNodes(x.els))
		c.lowerSeq(x.then)
		skipThen := armNodes(x.then)
		if len(x.els) > 0 || len(skipThen) > 0 {
			jump := c.emit(op(blueprint.OpJump))
			c.bp.Code[at].Target = c.pc()
			c.skip(x, skipThen)
			c.lowerSeq(x.els)
			c.bp.Code[jump].Target = c.pc()
		} else {
			c.bp.Code[at].Target = c.pc()
		}
		c.emit(op(blueprint.OpLeave))
	case "Switch":
		c.lowerSwitch(x, op)
	case "Loop":
		if sequential(n) {
			c.lowerSequential(x, op)
			break
		}
		m := op(blueprint.OpMap)
		m.Expr, m.Max, m.Concurrency = x.cond, maxIterations(n), n.Concurrency
		if _, written := n.FieldPos["concurrency"]; !written {
			m.Concurrency = 1
		}
		at := c.emit(m)
		c.lowerSeq(x.body)
		c.emit(op(blueprint.OpJoin))
		c.bp.Code[at].Target = c.pc()
		c.lowerCollect(x)
	case "Call":
		enter := op(blueprint.OpEnter)
		enter.Expr = x.args
		c.emit(enter)
		c.lowerSeq(x.body)
		c.emit(op(blueprint.OpLeave))
	case "Wait":
		c.lowerWait(x)
	case "Graph":
		c.lowerGraph(x)
	}
}

// lowerWait emits a Wait. With a timeout T, a wait that would last longer
// than T waits T and then fails, as an Action that runs out of time does:
//
//	Branch fits→X; Wait expr; Jump L; X: Wait T; Task fail(node); L:
//
// where fits is `duration(expr) <= duration(T)` (for until,
// `date(expr) - now() <= duration(T)`). A constant duration decides here
// which of the two waits remains.
func (c *compiler) lowerWait(x *inode) {
	n := x.n
	w := blueprint.Instr{Op: blueprint.OpWait, Node: x.idx, Expr: x.wait, Until: n.Duration == nil}
	if n.Timeout == nil || x.wait < 0 {
		c.emit(w)
		return
	}
	limit := n.Timeout.D
	e := c.bp.Exprs[x.wait]
	if e.Const && !w.Until {
		if s, ok := e.Value.(string); ok {
			if d, err := time.ParseDuration(strings.TrimSpace(s)); err == nil && d <= limit {
				c.emit(w)
				return
			}
		}
		c.waitTimeout(x, e.Pos, limit)
		return
	}
	fits := e
	// The source gains a prefix below, which would shift the spans' offsets:
	// the check is positioned at the Wait's value as a whole.
	fits.Const, fits.Value, fits.Spans = false, nil, nil
	if w.Until {
		fits.Src = fmt.Sprintf("date(%s) - now() <= duration(%q)", e.Src, limit.String())
	} else {
		fits.Src = fmt.Sprintf("duration(%s) <= duration(%q)", e.Src, limit.String())
	}
	br := c.emit(blueprint.Instr{Op: blueprint.OpBranch, Node: x.idx, Expr: c.addExpr(fits)})
	c.emit(w)
	jump := c.emit(blueprint.Instr{Op: blueprint.OpJump, Node: x.idx, Expr: -1})
	c.bp.Code[br].Target = c.pc()
	c.waitTimeout(x, e.Pos, limit)
	c.bp.Code[jump].Target = c.pc()
}

// waitTimeout emits the wait of a timed-out Wait and its failure.
func (c *compiler) waitTimeout(x *inode, pos blueprint.Pos, limit time.Duration) {
	c.emit(blueprint.Instr{Op: blueprint.OpWait, Node: x.idx, Expr: c.addExpr(constExpr(pos, limit.String()))})
	msg := fmt.Sprintf("Wait %q timed out after %s", x.id, limit)
	c.emit(blueprint.Instr{Op: blueprint.OpTask, Node: x.idx, Expr: -1, Steps: []blueprint.Step{{
		Node: x.idx, Action: blueprint.FailAction, Catch: -1, Retry: blueprint.Retry{MaxAttempts: 1},
		Params: c.addExpr(constExpr(pos, map[string]any{"message": msg})),
	}}})
}

// addExpr appends an expression the compiler made itself.
func (c *compiler) addExpr(e blueprint.Expr) int32 {
	c.bp.Exprs = append(c.bp.Exprs, e)
	return int32(len(c.bp.Exprs) - 1)
}

// constExpr is a constant expression for a value the compiler supplies.
func constExpr(pos blueprint.Pos, v any) blueprint.Expr {
	e, _ := skexpr.Const(dsl.Pos{Line: pos.Line, Col: pos.Col}, v).Bind(nil)
	e.Pos = pos
	return e
}

// defaultMaxIterations bounds loops that do not set max_iterations, so a
// runaway while loop fails instead of running forever.
const defaultMaxIterations = 10000

func maxIterations(n *dsl.Node) int {
	if n.MaxIterations > 0 {
		return n.MaxIterations
	}
	return defaultMaxIterations
}

func (c *compiler) lowerSwitch(x *inode, op func(blueprint.Op) blueprint.Instr) {
	c.emit(op(blueprint.OpEnter))
	// others lists the nodes of every arm but arm i (-1: the default).
	others := func(i int) []int32 {
		var out []int32
		for j, cs := range x.cases {
			if j != i {
				out = append(out, armNodes(cs)...)
			}
		}
		if i >= 0 {
			out = append(out, armNodes(x.dflt)...)
		}
		return out
	}
	var jumps []int32
	for i, cs := range x.cases {
		br := op(blueprint.OpBranch)
		br.Expr = x.whens[i]
		at := c.emit(br)
		c.skip(x, others(i))
		c.lowerSeq(cs)
		jumps = append(jumps, c.emit(op(blueprint.OpJump)))
		c.bp.Code[at].Target = c.pc()
	}
	c.skip(x, others(-1))
	c.lowerSeq(x.dflt)
	for _, j := range jumps {
		c.bp.Code[j].Target = c.pc()
	}
	c.emit(op(blueprint.OpLeave))
}

// lowerAction emits one Task. Node options fall back to the workflow's
// defaults as a whole: a node's retry replaces the default retry rather
// than merging field by field, so what a node says is all that applies.
// The default retry does not apply to the `fail` action.
func (c *compiler) lowerAction(x *inode) {
	n := x.n
	timeout, retry, onError := n.Timeout, c.actionRetry(n), n.OnError
	if d := c.wf.Defaults; d != nil {
		if timeout == nil {
			timeout = d.Timeout
		}
		if onError == "" {
			onError = d.OnError
		}
	}
	step := blueprint.Step{
		Node: x.idx, Action: n.Action, Params: x.params, Catch: -1,
		Retry:    lowerRetry(retry, x.retryWhen),
		Continue: (onError == "continue" || x.contain) && len(x.catch) == 0 && !n.HasCatch,
		Contain:  x.contain && onError != "continue",
	}
	if timeout != nil {
		step.Timeout = timeout.D
	}
	at := c.emit(blueprint.Instr{Op: blueprint.OpTask, Node: x.idx, Expr: -1, Steps: []blueprint.Step{step}})
	if !n.HasCatch {
		return
	}
	jump := c.emit(blueprint.Instr{Op: blueprint.OpJump, Node: x.idx, Expr: -1})
	c.bp.Code[at].Steps[0].Catch = c.pc()
	c.lowerSeq(x.catch)
	c.emit(blueprint.Instr{Op: blueprint.OpLeave, Node: x.idx, Expr: -1, Failed: true})
	c.bp.Code[jump].Target = c.pc()
}

// defaultAttempts is max_attempts for a retry block that omits it: writing
// `retry:` at all asks for retries, so one attempt would be a surprise.
const defaultAttempts = 3

func lowerRetry(r *dsl.Retry, when int32) blueprint.Retry {
	if r == nil {
		return blueprint.Retry{MaxAttempts: 1}
	}
	out := blueprint.Retry{MaxAttempts: r.MaxAttempts, Backoff: r.Backoff}
	if out.MaxAttempts <= 0 {
		out.MaxAttempts = defaultAttempts
	}
	out.InitialInterval = dur(r.InitialInterval)
	out.MaxInterval = dur(r.MaxInterval)
	out.Jitter = r.Jitter
	if r.When != nil || r.Errors != nil || r.Except != nil {
		out.Filter = &blueprint.RetryFilter{Errors: r.Errors, Except: r.Except, When: when}
	}
	return out
}

func dur(d *dsl.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.D
}

// lowerSequential emits a while or until loop, with a Branch and a Break
// after each body node that has break_if.
func (c *compiler) lowerSequential(x *inode, op func(blueprint.Op) blueprint.Instr) {
	n := x.n
	c.emit(op(blueprint.OpEnter))
	head := op(blueprint.OpWhile)
	head.Expr, head.Max, head.Until = x.cond, maxIterations(n), n.LoopUntil != nil
	h := c.emit(head)
	var breaks []int32
	for _, b := range x.body {
		c.lowerNode(b)
		if b.brk < 0 {
			continue
		}
		br := op(blueprint.OpBranch)
		br.Expr = b.brk
		at := c.emit(br)
		breaks = append(breaks, c.emit(op(blueprint.OpBreak)))
		c.bp.Code[at].Target = c.pc()
	}
	next := op(blueprint.OpNext)
	next.Target = h
	c.emit(next)
	c.bp.Code[h].Target = c.pc()
	for _, b := range breaks {
		c.bp.Code[b].Target = c.pc()
	}
}

// lowerCollect emits, after the resume of a Parallel or for_each Loop that
// is a trap or inside one, the Collect that finds the failures its
// branches or iterations handed over, and the node's catch block:
//
//	Collect{handle}; [Jump L; C: catch…; Leave failed; L:]
func (c *compiler) lowerCollect(x *inode) {
	if !collects(x.n) && !inTrap(x) {
		return
	}
	in := blueprint.Instr{Op: blueprint.OpCollect, Node: x.idx, Expr: -1}
	switch {
	case !collects(x.n):
	case x.n.HasCatch:
		in.Handle = blueprint.HandleCatch
	case x.n.OnError == "continue":
		in.Handle = blueprint.HandleContinue
	}
	at := c.emit(in)
	if in.Handle != blueprint.HandleCatch {
		return
	}
	jump := c.emit(blueprint.Instr{Op: blueprint.OpJump, Node: x.idx, Expr: -1})
	c.bp.Code[at].Target = c.pc()
	c.lowerSeq(x.catch)
	c.emit(blueprint.Instr{Op: blueprint.OpLeave, Node: x.idx, Expr: -1, Failed: true})
	c.bp.Code[jump].Target = c.pc()
}

// skip emits a Skip of nodes, the nodes of the arms of If or Switch x not
// taken where it stands.
func (c *compiler) skip(x *inode, nodes []int32) {
	if len(nodes) > 0 {
		c.emit(blueprint.Instr{Op: blueprint.OpSkip, Node: x.idx, Expr: -1, Deps: nodes})
	}
}

// armNodes lists the nodes of an arm whose records share the arm's frame:
// every node in it, except those in the body of a loop inside it (their
// records are per iteration; the loop itself is listed) and in catch
// blocks (which run only on a failure).
func armNodes(seq []*inode) []int32 {
	var out []int32
	var walk func(seq []*inode)
	walk = func(seq []*inode) {
		for _, x := range seq {
			out = append(out, x.idx)
			for _, b := range x.branches {
				walk(b)
			}
			walk(x.then)
			walk(x.els)
			for _, cs := range x.cases {
				walk(cs)
			}
			walk(x.dflt)
			walk(x.graph)
			if x.n.Kind == "Call" {
				walk(x.body)
			}
		}
	}
	walk(seq)
	return out
}

// lowerRace emits a Parallel with mode: first:
//
//	Race{[B0 B1 …] → W, else → X}; B_i: branch…; Win …
//	W: Won (every branch's nodes); Jump L
//	X: Collect{handle}; [catch…]
//	L:
func (c *compiler) lowerRace(x *inode, op func(blueprint.Op) blueprint.Instr) {
	race := op(blueprint.OpRace)
	race.Concurrency = x.n.MaxConcurrency
	at := c.emit(race)
	var targets []int32
	for _, b := range x.branches {
		targets = append(targets, c.pc())
		c.lowerSeq(b)
		c.emit(op(blueprint.OpWin))
	}
	c.bp.Code[at].Targets = targets
	c.bp.Code[at].Target = c.pc()
	var nodes []int32
	for _, b := range x.branches {
		nodes = append(nodes, armNodes(b)...)
	}
	won := op(blueprint.OpWon)
	won.Deps, won.Max = nodes, len(x.branches)
	c.emit(won)
	jump := c.emit(op(blueprint.OpJump))
	c.bp.Code[at].Else = c.pc()
	c.lowerCollect(x)
	c.bp.Code[jump].Target = c.pc()
}
