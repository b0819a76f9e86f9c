package blueprint

import "strconv"

// The two picture formats share what they draw: one graph node per
// instruction and the edges of the control-flow graph (see Edges).

// graphLabel returns the lines of an instruction's label: pc and opcode,
// then the nodes it came from (action(node) for each step of a Task).
func (bp *Blueprint) graphLabel(pc int) []string {
	in := &bp.Code[pc]
	lines := []string{strconv.Itoa(pc) + " " + in.Op.String()}
	if in.Op == OpTask {
		for _, s := range in.Steps {
			lines = append(lines, s.Action+"("+bp.nodeID(s.Node)+")")
		}
	} else if in.Node >= 0 {
		lines = append(lines, bp.nodeID(in.Node))
	}
	return lines
}

// graphEdges returns the edges whose target exists; a picture of a broken
// program should still render.
func (bp *Blueprint) graphEdges() []Edge {
	var out []Edge
	for _, e := range bp.Edges() {
		if e.To >= 0 && int(e.To) < len(bp.Code) {
			out = append(out, e)
		}
	}
	return out
}
