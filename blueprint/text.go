package blueprint

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Text and the pictures are debugging aids: they must never panic, even on a
// Blueprint that does not validate, so every table lookup goes through the
// guarded accessors below.

// srcLimit is how many characters of an expression's source a listing shows.
const srcLimit = 60

// Text returns a readable listing of bp: a header (name, hash, inputs,
// output expression), then one line per instruction with its pc, opcode,
// operands and the node ids it came from, e.g.
//
//	3  Task    http_post(process_a), log(aggregate)
//	0  Fork    [1 3] -> 5   # start
//
// Targets are shown as "-> PC", expressions by their quoted source.
func Text(bp *Blueprint) string {
	if bp == nil {
		return "<nil blueprint>\n"
	}
	var b strings.Builder
	header := func(k, v string) { fmt.Fprintf(&b, "%-9s%s\n", k, v) }
	header("workflow", strconv.Quote(bp.Name))
	if bp.Version != "" {
		header("version", strconv.Quote(bp.Version))
	}
	if bp.File != "" {
		header("file", bp.File)
	}
	if bp.Hash != "" {
		header("hash", bp.Hash)
	} else {
		header("hash", "(not sealed)")
	}
	if len(bp.Inputs) > 0 {
		ins := make([]string, len(bp.Inputs))
		for i, in := range bp.Inputs {
			ins[i] = inputText(in)
		}
		header("inputs", strings.Join(ins, ", "))
	}
	if bp.Output >= 0 {
		header("output", bp.exprText(bp.Output))
	} else {
		header("output", "last")
	}
	if bp.Finally > 0 {
		header("finally", "pc "+strconv.Itoa(int(bp.Finally)))
	}
	fmt.Fprintf(&b, "code     %d instructions, %d nodes, %d expressions\n", len(bp.Code), len(bp.Nodes), len(bp.Exprs))
	w := len(strconv.Itoa(len(bp.Code) - 1))
	if w < 3 {
		w = 3
	}
	for pc := range bp.Code {
		b.WriteString(bp.instrLine(pc, w))
		b.WriteByte('\n')
	}
	return b.String()
}

func inputText(in Input) string {
	s := in.Name
	if in.Type != "" {
		s += ": " + in.Type
	}
	if in.Required {
		s += " required"
	}
	if in.HasDefault {
		s += " = " + valueText(in.Default)
	}
	return s
}

// valueText shows a constant as JSON, falling back to Go syntax for values
// JSON cannot hold.
func valueText(v any) string {
	if data, err := json.Marshal(v); err == nil {
		return truncate(string(data))
	}
	return truncate(fmt.Sprintf("%v", v))
}

func truncate(s string) string {
	r := []rune(s)
	if len(r) <= srcLimit {
		return s
	}
	return string(r[:srcLimit-3]) + "..."
}

// nodeID names node n, or "#n" when the index is out of range.
func (bp *Blueprint) nodeID(n int32) string {
	if n >= 0 && int(n) < len(bp.Nodes) {
		return bp.Nodes[n].ID
	}
	return "#" + strconv.Itoa(int(n))
}

// exprText shows expression e as its quoted (truncated) source, marked when
// the compiler already evaluated it.
func (bp *Blueprint) exprText(e int32) string {
	if e < 0 || int(e) >= len(bp.Exprs) {
		return "expr#" + strconv.Itoa(int(e))
	}
	x := &bp.Exprs[e]
	s := strconv.Quote(truncate(x.Src))
	if x.Const {
		s += " const"
	}
	return s
}

// stepText shows a step as action(node), with its error handling.
func (bp *Blueprint) stepText(s Step) string {
	t := s.Action + "(" + bp.nodeID(s.Node) + ")"
	if s.Continue {
		t += " continue"
	}
	if s.Catch >= 0 {
		t += " catch -> " + strconv.Itoa(int(s.Catch))
	}
	return t
}

// operands is the part of an instruction's line between opcode and comment.
func (bp *Blueprint) operands(in *Instr) string {
	var parts []string
	add := func(s ...string) { parts = append(parts, s...) }
	to := func(pc int32) string { return "-> " + strconv.Itoa(int(pc)) }
	switch in.Op {
	case OpTask:
		steps := make([]string, len(in.Steps))
		for i, s := range in.Steps {
			steps[i] = bp.stepText(s)
		}
		add(strings.Join(steps, ", "))
	case OpFork:
		ts := make([]string, len(in.Targets))
		for i, t := range in.Targets {
			ts[i] = strconv.Itoa(int(t))
		}
		add("["+strings.Join(ts, " ")+"]", to(in.Target))
	case OpRace:
		ts := make([]string, len(in.Targets))
		for i, t := range in.Targets {
			ts[i] = strconv.Itoa(int(t))
		}
		add("["+strings.Join(ts, " ")+"]", to(in.Target), "else", to(in.Else))
	case OpGraph:
		ts := make([]string, len(in.Targets))
		for i, t := range in.Targets {
			ts[i] = strconv.Itoa(int(t))
			if i < len(in.Needs) && in.Needs[i] > 0 {
				ts[i] += "/" + strconv.Itoa(int(in.Needs[i]))
			}
		}
		add("["+strings.Join(ts, " ")+"]", to(in.Target))
	case OpTrigger, OpCheck, OpSkip, OpWon:
		if in.Op == OpTrigger {
			add(in.Rule)
		}
		ds := make([]string, len(in.Deps))
		for i, d := range in.Deps {
			ds[i] = bp.nodeID(d)
		}
		add("(" + strings.Join(ds, " ") + ")")
		if in.Op == OpTrigger {
			add(to(in.Target))
		}
	case OpCollect:
		switch in.Handle {
		case HandleCatch:
			add("catch", to(in.Target))
		case HandleContinue:
			add("continue")
		}
	case OpSignal:
		ss := make([]string, len(in.Signals))
		for i, sg := range in.Signals {
			ss[i] = strconv.Itoa(int(sg.Slot)) + "." + strconv.Itoa(int(sg.At))
		}
		add("[" + strings.Join(ss, " ") + "]")
	case OpJump, OpNext, OpBreak:
		add(to(in.Target))
	case OpBranch, OpMap, OpWhile:
		if in.Op == OpWhile && in.Until {
			add("until")
		}
		add(bp.exprText(in.Expr), to(in.Target))
	case OpWait:
		if in.Until {
			add("until")
		}
		add(bp.exprText(in.Expr))
	case OpEnter:
		if in.Expr >= 0 {
			add(bp.exprText(in.Expr))
		}
	case OpLeave:
		if in.Wrap {
			add("wrap")
		}
		if in.Failed {
			add("failed")
		}
	}
	if in.Concurrency != 0 {
		add("concurrency " + strconv.Itoa(in.Concurrency))
	}
	if in.Max != 0 {
		add("max " + strconv.Itoa(in.Max))
	}
	return strings.Join(parts, " ")
}

// comment names the instruction's node unless its steps already do.
func (bp *Blueprint) comment(in *Instr) string {
	if in.Node < 0 {
		return ""
	}
	for _, s := range in.Steps {
		if s.Node == in.Node {
			return ""
		}
	}
	return "# " + bp.nodeID(in.Node)
}

func (bp *Blueprint) instrLine(pc, width int) string {
	in := &bp.Code[pc]
	line := fmt.Sprintf("%*d  %s", width, pc, in.Op)
	ops, com := bp.operands(in), bp.comment(in)
	if ops == "" && com == "" {
		return line
	}
	line = fmt.Sprintf("%-*s", width+2+8, line)
	if ops != "" {
		line += ops
		if com != "" {
			line += "   "
		}
	}
	return line + com
}
