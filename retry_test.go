package skript_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
)

// TestRetryThroughTheRootAPI: a failed run retried from the Go API runs
// only the step that failed, with the run's inputs.
func TestRetryThroughTheRootAPI(t *testing.T) {
	eng, err := skript.New()
	require.NoError(t, err)
	defer func() { _ = eng.Close() }()
	var mu sync.Mutex
	broken, calls := true, map[string]int{}
	type params struct {
		Name string `json:"name"`
	}
	require.NoError(t, skript.Register(eng, "charge", func(_ context.Context, p params) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		calls[p.Name]++
		if broken && p.Name == "card" {
			return nil, errors.New("card declined")
		}
		return p.Name + " ok", nil
	}))
	bp, err := eng.Compile("f.yaml", []byte(`name: pay
inputs:
  who: {type: string, required: true}
nodes:
  - {id: reserve, kind: Action, action: charge, params: {name: stock}}
  - {id: pay, kind: Action, action: charge, params: {name: card}}
output: "${{ input.who + ': ' + nodes.pay.output }}"
`))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	run, err := eng.Start(ctx, bp, map[string]any{"who": "ada"})
	require.NoError(t, err)
	res, err := run.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Failed, res.Status)

	_, err = eng.Retry(ctx, res.RunID, skript.RetryOptions{From: "pya"})
	require.ErrorIs(t, err, runtime.ErrUnknownNode)
	require.ErrorContains(t, err, `did you mean "pay"?`)

	mu.Lock()
	broken = false
	mu.Unlock()
	again, err := eng.Retry(ctx, res.RunID, skript.RetryOptions{})
	require.NoError(t, err)
	out, err := again.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Succeeded, out.Status)
	require.Equal(t, "ada: card ok", out.Output)
	require.Equal(t, res.RunID, out.RetryOf)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, map[string]int{"stock": 1, "card": 2}, calls)
}
