package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/skript-dev/skript/compiler"
)

// emitGraph draws the workflow as written (compiler.Graph): as JSON for
// --emit graph, or as a Graphviz or Mermaid picture. The file has already
// compiled, so the graph is complete.
func emitGraph(out io.Writer, path, emit string, maxBytes int) error {
	src, err := readWorkflow(path, maxBytes)
	if err != nil {
		return exit(2, fmt.Errorf("%s: %w", path, err))
	}
	g, errs := compiler.BuildGraph(path, src)
	if g == nil {
		return exit(2, errs)
	}
	switch emit {
	case "graph":
		data, err := json.MarshalIndent(g, "", "  ")
		if err != nil {
			return exit(1, err)
		}
		_, err = fmt.Fprintln(out, string(data))
		return err
	case "dot":
		_, err = io.WriteString(out, g.Dot())
	default:
		_, err = io.WriteString(out, g.Mermaid())
	}
	return err
}
