package runtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
)

// TestWhileKeepsAConstantAmountPerIteration: a while loop keeps, for each
// iteration, the same records of the same size (its index and the
// results of its body's nodes), so what a run holds grows linearly with its
// iterations, bounded by max_iterations, and no record grows with the
// iteration count except the loop's own output (one value per iteration).
func TestWhileKeepsAConstantAmountPerIteration(t *testing.T) {
	kept := func(n int) (records int, largest int) {
		src := fmt.Sprintf(`name: w
nodes:
  - id: loop
    kind: Loop
    while: "iteration < %d"
    max_iterations: 1000000
    body:
      - {id: a, kind: Action, action: set, params: {v: "${{ iteration }}"}}
      - {id: b, kind: Action, action: set, params: {w: "${{ nodes.a.output.v + 1 }}"}}
`, n)
		bp, errs := compiler.Compile("w.yaml", []byte(src), compiler.Options{})
		require.Empty(t, errs)
		st := memory.New()
		defer st.Close()
		res := runWith(t, runtime.New(runtime.WithStore(st)), runtime.WorkerOptions{Grace: time.Second}, bp, nil)
		require.Equal(t, store.Succeeded, res.Status, res.Error)
		recs, err := st.AllRecords(context.Background(), res.RunID)
		require.NoError(t, err)
		for _, r := range recs {
			if r.Frame == "" && r.Key == "loop" {
				require.Len(t, r.Output, n)
				continue
			}
			data, err := json.Marshal(r.Output)
			require.NoError(t, err)
			largest = max(largest, len(data))
		}
		return len(recs), largest
	}
	r10, big10 := kept(10)
	r100, big100 := kept(100)
	r1000, big1000 := kept(1000)
	perIter := (r100 - r10) / 90
	require.Equal(t, r10+990*perIter, r1000, "records per iteration are not constant")
	require.LessOrEqual(t, perIter, 3, "an iteration keeps its index and one record per body node")
	// Outputs hold the iteration number: a few digits more, never more.
	require.LessOrEqual(t, big1000, big10+3)
	require.LessOrEqual(t, big100, big10+2)
}
