package skript_test

import (
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/dsl"
)

var update = flag.Bool("update", false, "rewrite docs/skript.schema.json")

// The schema file editors point at must match what `skript schema` prints.
func TestSchemaFileIsUpToDate(t *testing.T) {
	const path = "docs/skript.schema.json"
	if *update {
		require.NoError(t, os.WriteFile(path, dsl.Schema(), 0o644))
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(dsl.Schema()), string(got), "run: go test . -run TestSchemaFileIsUpToDate -update")
}
