package runtime_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
)

// TestRetryGraphRunsItsUnhandledFailure: a Graph node whose failure only a
// teardown (all_done) ran after is not a handled failure: a retry runs it
// again, and keeps what succeeded.
func TestRetryGraphRunsItsUnhandledFailure(t *testing.T) {
	onRetryStores(t, func(t *testing.T, st store.Store, opts compiler.Options) {
		h := newRetryHost(t)
		f := newRetryFlow(t, st, h, opts, `name: g
nodes:
  - id: g
    kind: Graph
    graph:
      - {id: setup, kind: Action, action: work, params: {key: setup}}
      - {id: build, kind: Action, action: work, params: {key: build}, depends: setup}
      - {id: teardown, kind: Action, action: work, params: {key: teardown}, depends: build, trigger_rule: all_done}
`)
		h.fail("build")
		res := f.run(nil)
		require.Equal(t, store.Failed, res.Status)
		require.Equal(t, "build", res.Error.Node)
		require.Equal(t, store.Succeeded, res.Nodes["teardown"].Status)

		h.mend()
		again := f.retry(res.RunID, runtime.RetryOptions{})
		require.Equal(t, store.Succeeded, again.Status, "%+v", again.Error)
		require.Equal(t, map[string]int{"build": 1}, h.counts(again.RunID))
		require.True(t, again.Nodes["setup"].Reused)
		require.False(t, again.Nodes["build"].Reused)
	})
}
