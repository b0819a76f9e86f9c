package blueprint

import (
	"fmt"
	"strings"
)

// Mermaid returns a Mermaid flowchart of bp's control flow, the same graph
// as Dot: one node per instruction, labelled edges for conditions, forks and
// catches, dashed edges where a Fork or Map resumes.
func Mermaid(bp *Blueprint) string {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	if bp == nil {
		return b.String()
	}
	// A comment cannot span lines, so the name is flattened.
	name := strings.NewReplacer("\n", " ", "\r", " ").Replace(bp.Name)
	fmt.Fprintf(&b, "  %%%% workflow %s\n", name)
	for pc := range bp.Code {
		lines := bp.graphLabel(pc)
		for i := range lines {
			lines[i] = mermaidEscape(lines[i])
		}
		lo, hi := mermaidShape(bp.Code[pc].Op)
		fmt.Fprintf(&b, "  pc%d%s\"%s\"%s\n", pc, lo, strings.Join(lines, "<br/>"), hi)
	}
	for _, e := range bp.graphEdges() {
		fmt.Fprintf(&b, "  pc%d %s pc%d\n", e.From, mermaidArrow(e.Kind), e.To)
	}
	return b.String()
}

// mermaidEscape writes the characters that could end a quoted label or be
// read as markup as Mermaid entity codes ("#quot;"); "#" itself starts an
// entity, so it is escaped too.
var mermaidEscape = strings.NewReplacer(
	`#`, `#35;`,
	`"`, `#quot;`,
	`&`, `#amp;`,
	`<`, `#lt;`,
	`>`, `#gt;`,
	`[`, `#91;`,
	`]`, `#93;`,
	`{`, `#123;`,
	`}`, `#125;`,
	`|`, `#124;`,
	"\n", " ",
	"\r", " ",
).Replace

// mermaidShape mirrors dotShape: boxes for work, rhombi for decisions,
// rounded boxes for control.
func mermaidShape(op Op) (string, string) {
	switch op {
	case OpTask, OpWait:
		return "[", "]"
	case OpBranch, OpWhile, OpTrigger:
		return "{", "}"
	default:
		return "(", ")"
	}
}

func mermaidArrow(k EdgeKind) string {
	switch k {
	case EdgeNext, EdgeJump:
		return "-->"
	case EdgeResume:
		return "-.->|resume|"
	case EdgeCatch:
		return "-.->|catch|"
	default:
		return "-->|" + k.String() + "|"
	}
}
