package compiler

import (
	"fmt"
	"strings"
)

// children lists each group's nodes in order ("" for the top level).
func (g *Graph) children() map[string][]*GraphNode {
	out := map[string][]*GraphNode{}
	for _, n := range g.Nodes {
		out[n.Parent] = append(out[n.Parent], n)
	}
	return out
}

// Dot draws the graph in Graphviz's language: groups are clusters, and an
// arrow into or out of a group is clipped at its frame (compound=true).
func (g *Graph) Dot() string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", dotQuote(g.Workflow))
	b.WriteString("  compound=true;\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=10];\n")
	kids := g.children()
	short := map[string]string{}
	for i, n := range g.Nodes {
		short[n.ID] = fmt.Sprintf("n%d", i)
	}
	var draw func(parent, indent string)
	draw = func(parent, indent string) {
		for _, n := range kids[parent] {
			if n.Group {
				fmt.Fprintf(&b, "%ssubgraph cluster_%s {\n", indent, short[n.ID])
				fmt.Fprintf(&b, "%s  label=%s; style=rounded;\n", indent, dotQuote(graphLabel(n)))
				// The anchor arrows into and out of the group attach to.
				fmt.Fprintf(&b, "%s  %s [shape=point, style=invis, width=0];\n", indent, short[n.ID])
				draw(n.ID, indent+"  ")
				fmt.Fprintf(&b, "%s}\n", indent)
				continue
			}
			fmt.Fprintf(&b, "%s%s [label=%s, shape=%s];\n", indent, short[n.ID], dotQuote(graphLabel(n)), dotShape(n.Kind))
		}
	}
	draw("", "  ")
	group := map[string]bool{}
	for _, n := range g.Nodes {
		group[n.ID] = n.Group
	}
	for _, e := range g.Edges {
		var attrs []string
		if e.Label != "" {
			attrs = append(attrs, "label="+dotQuote(e.Label))
		}
		if group[e.From] {
			attrs = append(attrs, "ltail=cluster_"+short[e.From])
		}
		if group[e.To] {
			attrs = append(attrs, "lhead=cluster_"+short[e.To])
		}
		fmt.Fprintf(&b, "  %s -> %s", short[e.From], short[e.To])
		if len(attrs) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(attrs, ", "))
		}
		b.WriteString(";\n")
	}
	b.WriteString("}\n")
	return b.String()
}

func dotShape(kind string) string {
	switch kind {
	case "If", "Switch":
		return "diamond"
	case "Wait":
		return "hexagon"
	case "Start", "End":
		return "circle"
	}
	return "box"
}

func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// graphLabel is a box's text: its label, then its detail on a second line.
func graphLabel(n *GraphNode) string {
	if n.Detail == "" || n.Kind == "Branch" {
		return n.Label
	}
	return n.Label + "\n" + n.Detail
}

// Mermaid draws the graph as a Mermaid flowchart: groups are subgraphs.
func (g *Graph) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	kids := g.children()
	short := map[string]string{}
	for i, n := range g.Nodes {
		short[n.ID] = fmt.Sprintf("n%d", i)
	}
	var draw func(parent, indent string)
	draw = func(parent, indent string) {
		for _, n := range kids[parent] {
			text := mermaidText(graphLabel(n))
			if n.Group {
				fmt.Fprintf(&b, "%ssubgraph %s [%s]\n", indent, short[n.ID], text)
				if n.Kind == "Parallel" {
					fmt.Fprintf(&b, "%s  direction LR\n", indent)
				}
				draw(n.ID, indent+"  ")
				fmt.Fprintf(&b, "%send\n", indent)
				continue
			}
			open, closing := "[", "]"
			switch n.Kind {
			case "If", "Switch":
				open, closing = "{", "}"
			case "Wait":
				open, closing = "{{", "}}"
			case "Start", "End":
				open, closing = "((", "))"
			}
			fmt.Fprintf(&b, "%s%s%s%s%s\n", indent, short[n.ID], open, text, closing)
		}
	}
	draw("", "  ")
	for _, e := range g.Edges {
		if e.Label != "" {
			fmt.Fprintf(&b, "  %s -->|%s| %s\n", short[e.From], mermaidText(e.Label), short[e.To])
		} else {
			fmt.Fprintf(&b, "  %s --> %s\n", short[e.From], short[e.To])
		}
	}
	return b.String()
}

// mermaidText quotes a label so that brackets, pipes and quotes in a
// condition cannot end it early.
func mermaidText(s string) string {
	r := strings.NewReplacer("#", "#35;", `"`, "#quot;", "\n", "<br/>", "|", "#124;")
	return `"` + r.Replace(s) + `"`
}
