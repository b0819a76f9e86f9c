package runtime_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
)

// TestRaceLoserIsInterrupted: when a branch of a race wins, an action of a
// losing branch that is running sees its context cancelled, on every
// store (on Redis through the ended channel's stop notices).
func TestRaceLoserIsInterrupted(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		var g gates
		reg := g.registry(t)
		var mu sync.Mutex
		stopped := map[string]bool{}
		require.NoError(t, action.Register(reg, "linger", func(ctx context.Context, p gateParams) (any, error) {
			ch := g.gate(p.Name)
			g.mu.Lock()
			select {
			case <-ch:
			default:
				close(ch)
			}
			g.mu.Unlock()
			select {
			case <-ctx.Done():
				mu.Lock()
				stopped[p.Name] = true
				mu.Unlock()
				return nil, ctx.Err()
			case <-time.After(15 * time.Second):
				return "never stopped", nil
			}
		}))
		// A node after the race waits for the loser to have stopped: the
		// run's end, which stops everything, comes after it.
		require.NoError(t, action.Register(reg, "awaitstop", func(ctx context.Context, p gateParams) (any, error) {
			deadline := time.After(10 * time.Second)
			for {
				mu.Lock()
				ok := stopped[p.Name]
				mu.Unlock()
				if ok {
					return "stopped", nil
				}
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-deadline:
					return nil, fmt.Errorf("the losing branch's action was not interrupted")
				case <-time.After(5 * time.Millisecond):
				}
			}
		}))
		src := `name: race-stop
nodes:
  - id: race
    kind: Parallel
    mode: first
    branches:
      - - {id: slow, kind: Action, action: linger, params: {name: "${{ run.id }}"}}
      - - {id: fast, kind: Action, action: hold, params: {name: "${{ run.id }}"}}
  - {id: after, kind: Action, action: awaitstop, params: {name: "${{ run.id }}"}}
`
		bp, errs := compiler.Compile("flow.yaml", []byte(src), compiler.Options{Registry: reg})
		require.Empty(t, errs)
		eng := runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg))
		res := runWith(t, eng, runtime.WorkerOptions{Grace: time.Second}, bp, nil)
		require.Equal(t, store.Succeeded, res.Status, "%v", res.Error)
		out, ok := res.Nodes["race"].Output.(map[string]any)
		require.True(t, ok, "race output %v", res.Nodes["race"].Output)
		require.Equal(t, "1", fmt.Sprint(out["branch"]), "the second branch won")
	})
}
