package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
)

// validFiles are workflows that must compile: the conformance cases that
// are valid, copied into testdata/valid.
func validFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/valid/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

func TestValidWorkflowsCompile(t *testing.T) {
	for _, f := range validFiles(t) {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			src, err := os.ReadFile(f)
			require.NoError(t, err)
			for _, opts := range []Options{{NoOpt: true}, {}} {
				bp, errs := Compile(filepath.Base(f), src, opts)
				require.Empty(t, errs, "%v", errs)
				require.NoError(t, blueprint.Validate(bp))
				require.Equal(t, blueprint.Hash(bp), bp.Hash)
				data, err := blueprint.Encode(bp)
				require.NoError(t, err)
				back, err := blueprint.Decode(data)
				require.NoError(t, err)
				require.Equal(t, bp.Hash, blueprint.Hash(back), "the serialized form round-trips")
			}
		})
	}
}

func TestOptionsRegistryAndLimits(t *testing.T) {
	src := []byte("name: t\nnodes:\n  - {id: a, kind: Action, action: shell, params: {command: ls}}\n")
	_, errs := Compile("t.yaml", src, Options{})
	require.Empty(t, errs)

	reg := action.Builtins()
	reg.Remove("shell")
	_, errs = Compile("t.yaml", src, Options{Registry: reg})
	require.Equal(t, `t.yaml:3:35: unknown action "shell"`, errs.Error())

	_, errs = Compile("t.yaml", src, Options{MaxBytes: 10})
	require.Len(t, errs, 1)
	require.Len(t, errs, 1)
	require.Contains(t, errs[0].Msg, "over the 10-byte limit")
}

func TestOptimizerRunsUnlessDisabled(t *testing.T) {
	src := []byte(`name: t
nodes:
  - id: gate
    kind: If
    condition: "1 > 2"
    then:
      - {id: dead, kind: Action, action: noop}
  - {id: a, kind: Action, action: noop}
  - {id: b, kind: Action, action: noop}
`)
	plain, errs := Compile("t.yaml", src, Options{NoOpt: true})
	require.Empty(t, errs)
	opt, errs := Compile("t.yaml", src, Options{})
	require.Empty(t, errs)
	require.Less(t, len(opt.Code), len(plain.Code))
	// The untaken branch's code is gone; its node stays in the table,
	// since the run records it skipped, with the optimizer as without.
	for _, in := range opt.Code {
		for _, st := range in.Steps {
			require.NotEqual(t, "dead", opt.Nodes[st.Node].ID, "removed code does not run")
		}
	}
	all := map[string]bool{}
	for _, p := range Passes {
		all[p.Name] = true
	}
	off, errs := Compile("t.yaml", src, Options{Disabled: all})
	require.Empty(t, errs)
	require.Equal(t, plain.Hash, off.Hash, "every pass disabled is no optimization")
}

func TestErrorsAreSortedAndComplete(t *testing.T) {
	src := []byte(`name: t
nodes:
  - {id: z, kind: Action, action: nop}
  - {id: y, kind: Action, action: set, params: {v: "${{ nodes.x.output }}"}}
  - {id: x, kind: Action, action: lgo}
`)
	_, errs := Compile("t.yaml", src, Options{})
	require.Len(t, errs, 3)
	for i := 1; i < len(errs); i++ {
		require.Less(t, errs[i-1].Pos.Line, errs[i].Pos.Line)
	}
}
