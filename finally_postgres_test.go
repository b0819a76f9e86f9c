package skript_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store/postgres/pgtest"
)

// TestFinallyRefusedWithoutFinishing: a store that cannot finish runs
// (PostgreSQL, for now) refuses a workflow with finally nodes at its
// start, with a message that says which stores can run it, rather than
// end its runs without running them.
func TestFinallyRefusedWithoutFinishing(t *testing.T) {
	eng, err := skript.New(skript.WithStoreURL(pgtest.NewDatabase(t)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	require.False(t, eng.Service().Store().Capabilities().Finishing)
	bp, err := eng.Compile("flow.yaml", []byte(`name: exit-handler
nodes:
  - {id: a, kind: Action, action: noop}
finally:
  - {id: cleanup, kind: Action, action: log, params: {msg: "${{ run.status }}"}}
`))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = eng.Start(ctx, bp, nil)
	require.ErrorIs(t, err, runtime.ErrNoFinishing)
	require.ErrorContains(t, err, "memory or Redis")
}
