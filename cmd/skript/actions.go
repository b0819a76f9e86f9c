package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/skript-dev/skript/action"
)

func newActionsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "actions [NAME...]",
		Short: "List the actions workflows can use, with their typed params",
		RunE: func(cmd *cobra.Command, args []string) error {
			actions, err := (&compileFlags{}).compiler(action.Builtins()).Actions(args...)
			if err != nil {
				return svcErr(err)
			}
			out := cmd.OutOrStdout()
			for i, a := range actions {
				if i > 0 {
					fmt.Fprintln(out)
				}
				fmt.Fprintf(out, "%s  %s\n", a.Name, a.Doc)
				for _, f := range a.Schema.Fields {
					typ := f.Type.String()
					if f.Elem != action.Any && (f.Type == action.List || f.Type == action.Map) {
						typ += " of " + f.Elem.String()
					}
					line := fmt.Sprintf("  %-14s %-18s", f.Name, typ)
					var notes []string
					if f.Required {
						notes = append(notes, "required")
					}
					if f.Default != nil {
						notes = append(notes, fmt.Sprintf("default %v", f.Default))
					}
					if len(f.Enum) > 0 {
						notes = append(notes, "one of "+strings.Join(f.Enum, ", "))
					}
					if f.Doc != "" {
						notes = append(notes, f.Doc)
					}
					fmt.Fprintln(out, strings.TrimRight(line+" "+strings.Join(notes, "; "), " "))
				}
				for _, group := range a.Schema.OneOf {
					fmt.Fprintf(out, "  exactly one of: %s\n", strings.Join(group, ", "))
				}
				if a.Schema.Open {
					fmt.Fprintln(out, "  any params (a map)")
				}
			}
			return nil
		},
	}
}
