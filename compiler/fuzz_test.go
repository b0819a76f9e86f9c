package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skript-dev/skript/blueprint"
)

// FuzzCompile feeds arbitrary bytes to the compiler: it must never panic or
// hang, every error must be positioned inside the file (or carry no
// position), and every Blueprint it returns must be valid and sealed. The
// seed corpus is testdata/fuzz/FuzzCompile plus every workflow under
// testdata.
func FuzzCompile(f *testing.F) {
	for _, pattern := range []string{"testdata/valid/*.yaml", "testdata/errors/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		// An upper bound on the line count: YAML also breaks lines at a
		// lone carriage return.
		lines := 1
		for _, c := range src {
			if c == '\n' || c == '\r' {
				lines++
			}
		}
		for _, opts := range []Options{{}, {NoOpt: true}} {
			start := time.Now()
			bp, errs := Compile("f.yaml", src, opts)
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("compiling took %v", d)
			}
			for _, e := range errs {
				if strings.Contains(e.Msg, "internal") {
					t.Fatalf("a bug: %v", e)
				}
				if e.Pos.Line > lines {
					t.Fatalf("error past the end of the file: %v", e)
				}
			}
			if bp == nil {
				if len(errs) == 0 {
					t.Fatal("no Blueprint and no error")
				}
				continue
			}
			if len(errs) > 0 {
				t.Fatalf("a Blueprint and errors: %v", errs)
			}
			if err := blueprint.Validate(bp); err != nil {
				t.Fatal(err)
			}
			if bp.Hash == "" || bp.Hash != blueprint.Hash(bp) {
				t.Fatal("the Blueprint is not sealed")
			}
		}
	})
}
