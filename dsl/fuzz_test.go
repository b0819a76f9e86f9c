package dsl

import (
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, must
// answer every input quickly, and must always explain a refusal with a
// positioned error. Seeds are the conformance workflows in
// testdata/fuzz/FuzzParse plus the small tricky inputs below.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"name: t\nnodes: [{id: a, kind: Action, action: noop}]\n",
		"name: t\nnodes:\n  - id: a\n    kind: Parallel\n    branches:\n      - - {id: b, kind: Action, action: log}\n",
		"x-a: &a {kind: Action, action: noop}\nname: t\nnodes: [{<<: *a, id: b}]\n",
		"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
		"{\"name\": \"j\", \"nodes\": [{\"id\": \"a\", \"kind\": \"Wait\", \"duration\": \"1s\"}]}",
		"name: !!str 3\nversion: !!int 0x1f\nnodes: [!!map {id: a, kind: Loop, while: !!bool yes, body: []}]\n",
		"name: t\nnodes:\n  - id: s\n    kind: Switch\n    cases:\n      - when: x\n        nodes: [{id: b, kind: Call, function: f}]\n    default: []\n",
		"? [a]\n: b\n",
		"- - - - x\n",
		"a: |\n  literal\n  text\nb: >-\n  folded\n",
		"%YAML 1.2\n---\nname: t\n...\n",
		"a: *x\n",
		"&a a: b\n*a : c\n",
		"",
		"\t",
		"name: t\nnodes:\n- id: a\n  kind: If\n  condition: 1\n  then:\n  - {id: b, kind: Action, action: noop}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		start := time.Now()
		w, errs := Parse("fuzz.yaml", src, WithMaxNodes(100_000))
		// Generous: the fuzzer runs many workers on a shared machine. A
		// real regression (an exponential path) blows far past it.
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Parse took %v on %d bytes", d, len(src))
		}
		if w == nil && len(errs) == 0 {
			t.Fatal("no workflow and no error")
		}
		for _, e := range errs {
			if strings.Contains(e.Msg, "internal error") || strings.Contains(e.Msg, "YAML parser failed") {
				t.Fatalf("panic: %s", e.Msg)
			}
			if !e.Pos.IsValid() || e.Pos.Col < 1 {
				t.Fatalf("error without a position: %q", e.Error())
			}
			if e.File != "fuzz.yaml" || e.Msg == "" {
				t.Fatalf("malformed error: %#v", e)
			}
		}
		if w != nil {
			_ = w.Output.Go() // the tree must be walkable
		}
	})
}
