package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/dsl"
	"github.com/skript-dev/skript/service"
)

// compileFlags are shared by every command that compiles a workflow.
type compileFlags struct {
	noOpt    bool
	disabled map[string]*bool
	maxBytes int
	deny     []string
	// Set on the commands that run actions (registerHost).
	shellEnv        []string
	httpDenyPrivate bool
}

func (f *compileFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.noOpt, "no-opt", false, "switch every optimizer pass off")
	f.disabled = map[string]*bool{}
	for _, p := range compiler.Passes {
		f.disabled[p.Name] = cmd.Flags().Bool("no-opt-"+p.Name, false, "switch the "+p.Name+" pass off: "+p.Doc)
	}
	cmd.Flags().IntVar(&f.maxBytes, "max-bytes", 10<<20, "refuse workflow files larger than this")
	f.registerDeny(cmd, "make these actions unavailable (e.g. shell): workflows using them do not compile; repeatable")
}

func (f *compileFlags) registry() *action.Registry {
	r := action.BuiltinsWith(f.builtinOptions())
	r.Remove(f.deny...)
	return r
}

// options are the flags' settings of one compilation.
func (f *compileFlags) options() service.CompileOptions {
	opts := service.CompileOptions{NoOpt: f.noOpt, MaxBytes: f.maxBytes, Disabled: map[string]bool{}}
	for name, off := range f.disabled {
		if *off {
			opts.Disabled[name] = true
		}
	}
	return opts
}

// compiler is a service that compiles with the flags' actions (reg).
func (f *compileFlags) compiler(reg *action.Registry) *service.Service {
	svc, _ := service.New(service.Config{Registry: reg, Denied: f.deny}) // no store: cannot fail
	return svc
}

// compileFile reads and compiles one workflow. On errors it prints them
// (with a source snippet on a terminal) and returns an exit-2 error.
func (f *compileFlags) compileFile(path string, reg *action.Registry, stderr io.Writer) (*blueprint.Blueprint, error) {
	src, err := readWorkflow(path, f.maxBytes)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", path, err)
		return nil, exit(2, nil)
	}
	bp, err := f.compiler(reg).Compile(path, src, f.options())
	var errs dsl.ErrorList
	switch {
	case errors.As(err, &errs):
		errs.Print(stderr, src, isTerminal(stderr))
		fmt.Fprintf(stderr, "%d error%s\n", len(errs), plural(len(errs)))
		return nil, exit(2, nil)
	case err != nil:
		return nil, svcErr(err)
	}
	return bp, nil
}

// readWorkflow refuses an oversized file before reading it into memory.
func readWorkflow(path string, max int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only
	if max <= 0 {
		max = 10 << 20
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > int64(max) {
		return nil, fmt.Errorf("file is %d bytes, over the %d-byte limit (--max-bytes)", st.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > max {
		return nil, fmt.Errorf("file is over the %d-byte limit (--max-bytes)", max)
	}
	return data, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newValidateCmd() *cobra.Command {
	var cf compileFlags
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check workflows and report every error as FILE:LINE:COL: message",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := false
			reg := cf.registry()
			for _, path := range args {
				if _, err := cf.compileFile(path, reg, cmd.ErrOrStderr()); err != nil {
					bad = true
				}
			}
			if bad {
				return exit(2, nil)
			}
			return nil
		},
	}
	cf.register(cmd)
	return cmd
}

func newCompileCmd() *cobra.Command {
	var cf compileFlags
	var emit string
	var instructions bool
	cmd := &cobra.Command{
		Use:   "compile FILE",
		Short: "Show the compiled Blueprint (text, json), or draw the workflow (graph, dot, mermaid)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bp, err := cf.compileFile(args[0], cf.registry(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if (emit == "graph" || emit == "dot" || emit == "mermaid") && !instructions {
				return emitGraph(out, args[0], emit, cf.maxBytes)
			}
			switch emit {
			case "text":
				fmt.Fprint(out, blueprint.Text(bp))
			case "json":
				data, err := blueprint.Encode(bp)
				if err != nil {
					return exit(1, err)
				}
				fmt.Fprintln(out, string(data))
			case "dot":
				fmt.Fprint(out, blueprint.Dot(bp))
			case "mermaid":
				fmt.Fprint(out, blueprint.Mermaid(bp))
			default:
				return exit(2, fmt.Errorf("--emit %q: want text, json, graph, dot or mermaid", emit))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&emit, "emit", "text", "output form: text, json, graph (the workflow's graph as JSON), dot or mermaid")
	cmd.Flags().BoolVar(&instructions, "instructions", false, "with --emit dot|mermaid: draw the Blueprint's instructions instead of the workflow")
	cf.register(cmd)
	return cmd
}

func newSchemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the workflow language (for editor completion)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write((&compileFlags{}).compiler(nil).Schema())
			return err
		},
	}
}
