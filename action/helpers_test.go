package action

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// invoke does what the runtime does: decode the params against the
// action's schema, then run it.
func invoke(t *testing.T, ctx context.Context, a Action, params map[string]any) (any, error) {
	t.Helper()
	decoded, err := a.Schema.Decode(params)
	require.NoError(t, err)
	return a.Run(ctx, &Call{Params: decoded, RunID: "run-1", NodeID: "node-1", Attempt: 1})
}
