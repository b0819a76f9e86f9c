package expr

import (
	"encoding/json"
	"testing"

	"github.com/skript-dev/skript/blueprint"
)

// anyScope binds every name, so the fuzzer explores the translation and
// the expression language rather than scope errors.
type anyScope struct{}

func (anyScope) Var(u *Use) (blueprint.Var, *Problem) {
	return blueprint.Var{Name: u.Name, Kind: blueprint.VarInput, Node: -1}, nil
}

func (anyScope) Node(u *Use) (blueprint.Ref, int, *Problem) {
	return blueprint.Ref{Name: u.Path[0], Node: 0}, 1, nil
}

// FuzzTemplate checks that whatever the compiler accepts, the runtime can
// compile: a template that translates and binds without error must give
// an expr-lang program, and a folded value must be serializable data.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"${{ input.x * 2 }}", "hi ${{ nodes.a.output }}!", `${{ {a: [1, "}}"]} }}`,
		"${{ map(input.l, #.v) }}", "${{ let x = 1; x }}", "a ${{ 1 }} b ${{ 'c' }}",
		"${{ 1 // c }}", "${{ nodes[\"a.b\"].output }}", "${{ 0x10 + 1e3 }}", "${{",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tr := NewTranslator("f.yaml", lineSource(s))
		src, errs := tr.Value(str(s))
		if len(errs) > 0 {
			return
		}
		e, errs := src.Bind(anyScope{})
		if len(errs) > 0 {
			return
		}
		if e.Const {
			if !plain(e.Value) {
				t.Fatalf("folded to %T", e.Value)
			}
			if _, err := json.Marshal(e.Value); err != nil {
				t.Fatal(err)
			}
			return
		}
		if _, err := Compile(e); err != nil {
			t.Fatalf("accepted %q but the runtime cannot compile %q: %v", s, e.Src, err)
		}
	})
}
