package blueprint

import (
	"fmt"
	"strings"
)

// Dot returns a Graphviz description of bp's control flow: one graph node per
// instruction, labelled with its pc, opcode and node ids; edges for
// fallthrough and jumps, Branch and While edges labelled true/false, Fork
// and Map child edges, and dashed edges where a Fork or Map resumes.
func Dot(bp *Blueprint) string {
	if bp == nil {
		return "digraph \"\" {\n}\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", dotQuote(bp.Name))
	b.WriteString("  node [shape=box, fontname=\"monospace\"];\n")
	for pc := range bp.Code {
		fmt.Fprintf(&b, "  pc%d [label=%s%s];\n", pc, dotQuote(strings.Join(bp.graphLabel(pc), "\n")), dotShape(bp.Code[pc].Op))
	}
	for _, e := range bp.graphEdges() {
		fmt.Fprintf(&b, "  pc%d -> pc%d%s;\n", e.From, e.To, dotEdgeAttrs(e.Kind))
	}
	b.WriteString("}\n")
	return b.String()
}

// dotQuote makes s a Graphviz quoted string. Backslash must be escaped too:
// Graphviz reads \n, \l and \N inside labels as escapes.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}

// dotShape sets Tasks and Waits (work that leaves the VM) apart from
// decisions and from plain control instructions.
func dotShape(op Op) string {
	switch op {
	case OpTask, OpWait:
		return ""
	case OpBranch, OpWhile, OpTrigger:
		return ", shape=diamond"
	default:
		return ", shape=ellipse"
	}
}

func dotEdgeAttrs(k EdgeKind) string {
	switch k {
	case EdgeNext, EdgeJump:
		return ""
	case EdgeResume:
		return ` [label="resume", style=dashed]`
	case EdgeCatch:
		return ` [label="catch", style=dotted]`
	default:
		return ` [label="` + k.String() + `"]`
	}
}
