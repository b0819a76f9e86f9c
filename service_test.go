package skript_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript"
	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store"
)

// The Go API's service submits with an idempotency key, lists and reads
// the journal of the engine's own runs, which its workers run.
func TestEngineService(t *testing.T) {
	eng, err := skript.New()
	require.NoError(t, err)
	defer eng.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bp, err := eng.Compile("f.yaml", []byte("name: f\nnodes:\n  - {id: a, kind: Action, action: log, params: {msg: hi}}\n"))
	require.NoError(t, err)
	svc := eng.Service()
	sub, err := svc.Submit(ctx, service.SubmitRequest{Blueprint: bp, Key: "once"})
	require.NoError(t, err)
	again, err := svc.Submit(ctx, service.SubmitRequest{Blueprint: bp, Key: "once"})
	require.NoError(t, err)
	require.True(t, again.Existing)
	require.Equal(t, sub.Run.ID, again.Run.ID)
	res, err := eng.Wait(ctx, sub.Run.ID)
	require.NoError(t, err)
	require.Equal(t, store.Succeeded, res.Status)

	list, err := svc.List(ctx, service.ListRequest{Counts: true})
	require.NoError(t, err)
	require.Len(t, list.Runs, 1)
	require.Equal(t, map[store.Status]int{store.Succeeded: 1}, list.Counts)
	var lines []string
	require.NoError(t, svc.Logs(ctx, sub.Run.ID, service.LogsRequest{}, func(ev *store.Event) error {
		lines = append(lines, ev.Message)
		return nil
	}))
	require.Equal(t, []string{"hi"}, lines)
}
