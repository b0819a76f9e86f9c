package expr

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/skript-dev/skript/blueprint"
)

// anyScope binds every name but the builtins' (which no compiler scope
// binds: `int.A` reads a function, not a variable), so the fuzzer explores
// the translation and the expression language rather than scope errors.
type anyScope struct{}

func (anyScope) Var(u *Use) (blueprint.Var, *Problem) {
	if slices.Contains(builtinNames, u.Name) {
		return blueprint.Var{}, &Problem{Msg: "a builtin is not a variable"}
	}
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
		"${{ input.s - input.x }}", "n=${{ input.x }} ${{ input.l[input.f] }}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// With typed inputs the checker takes other paths; they must not
		// panic either, whatever they refuse.
		typed := NewTranslator("f.yaml", lineSource(s))
		typed.DeclareInputs(map[string]string{"x": "integer", "s": "string", "l": "list", "m": "map", "b": "boolean", "f": "number"})
		if src, errs := typed.Value(str(s)); len(errs) == 0 {
			_ = src.TypeName()
		}
		tr := NewTranslator("f.yaml", lineSource(s))
		src, errs := tr.Value(str(s))
		if len(errs) > 0 {
			return
		}
		e, errs := src.Bind(anyScope{})
		if len(errs) > 0 {
			return
		}
		for i := 1; i < len(e.Spans); i++ {
			if e.Spans[i].From <= e.Spans[i-1].From {
				t.Fatalf("spans out of order: %v", e.Spans)
			}
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
