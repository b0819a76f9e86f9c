package compiler

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the .golden files from the compiler's output")

// TestErrorGolden compiles every testdata/errors/*.yaml and compares the
// exact error lines with the .golden file beside it. Messages are part of
// the product: a change shows up here as a diff to review.
func TestErrorGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			src, err := os.ReadFile(f)
			require.NoError(t, err)
			bp, errs := Compile(filepath.Base(f), src, Options{})
			require.Nil(t, bp, "an invalid workflow must not compile")
			require.NotEmpty(t, errs)
			got := errs.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./compiler -update to create it")
			require.Equal(t, string(want), got)
		})
	}
}
