package runtime_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/store/redis/redistest"
)

// The limit the tests run under, and the message of a one-action task
// given up after that many deliveries.
const (
	maxDeliveries = 2
	abandoned     = "task abandoned after 2 deliveries: the workers running it stopped before finishing (crash, kill or lost lease)"
	// A task of two fused actions runs its first alone once more first.
	abandonedFused = "task abandoned after 3 deliveries: the workers running it stopped before finishing (crash, kill or lost lease)"
)

// poisonFlow is a deployment of one workflow on a Redis store whose
// workers, so the test pretends, keep dying while they run its first task.
type poisonFlow struct {
	t     *testing.T
	st    *redis.Store
	eng   *runtime.Engine
	bp    *blueprint.Blueprint
	calls map[string]*atomic.Int32 // runs of each counting action
}

const deliveryLease = 200 * time.Millisecond

func newPoisonFlow(t *testing.T, tg *redistest.Target, src string) *poisonFlow {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := redis.Open(ctx, tg.URL, redis.WithPrefix(tg.Prefix(t)), redis.WithPartitions(1),
		redis.WithLease(deliveryLease), redis.WithMaxDeliveries(maxDeliveries))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	f := &poisonFlow{t: t, st: st, calls: map[string]*atomic.Int32{}}
	reg := action.Builtins()
	for _, name := range []string{"poison", "prep"} {
		n := new(atomic.Int32)
		f.calls[name] = n
		require.NoError(t, action.Register(reg, name, func(context.Context, struct{}) (any, error) {
			n.Add(1)
			return name + " ran", nil
		}))
	}
	bp, errs := compiler.Compile("poison.yaml", []byte(src), compiler.Options{Registry: reg})
	require.Empty(t, errs)
	f.bp = bp
	f.eng = runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg))
	return f
}

// run starts a run, lets dead workers lease its first task n times (each
// leases it and is never heard of again, so its lease runs out), then lets
// a live worker finish the run.
func (f *poisonFlow) run(dead int) *runtime.Result {
	t := f.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	run, err := f.eng.Start(ctx, f.bp, nil)
	require.NoError(t, err)
	for i := 1; i <= dead; i++ {
		got, err := f.st.Lease(ctx, "dead-"+strconv.Itoa(i), 1, 5*time.Second)
		require.NoError(t, err)
		require.Len(t, got, 1, "delivery %d", i)
		require.EqualValues(t, i, got[0].Deliveries)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.eng.Work(wctx, runtime.WorkerOptions{Heartbeat: deliveryLease / 3, Grace: time.Second})
	}()
	defer func() { stop(); <-done }()
	res, err := run.Wait(ctx)
	require.NoError(t, err)
	return res
}

func (f *poisonFlow) ran(name string) int { return int(f.calls[name].Load()) }

// TestDeliveryLimitFailsTheNode: past the limit, the action is not run
// again, and its node fails with the abandoned error through the node's own
// failure handling, exactly as if the action had returned that error.
func TestDeliveryLimitFailsTheNode(t *testing.T) {
	tg := redistest.New(t)

	t.Run("fails the run", func(t *testing.T) {
		f := newPoisonFlow(t, tg, `name: p
nodes:
  - {id: p, kind: Action, action: poison}
`)
		res := f.run(maxDeliveries)
		require.Equal(t, store.Failed, res.Status)
		require.Equal(t, &store.ErrorInfo{Node: "p", Type: "abandoned", Message: abandoned}, res.Error)
		require.Equal(t, store.Failed, res.Nodes["p"].Status)
		require.Zero(t, f.ran("poison"), "the action is not run past the limit")
	})

	t.Run("within the limit the task runs", func(t *testing.T) {
		f := newPoisonFlow(t, tg, `name: p
nodes:
  - {id: p, kind: Action, action: poison}
`)
		res := f.run(maxDeliveries - 1)
		require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
		require.Equal(t, 1, f.ran("poison"))
	})

	t.Run("on_error continue", func(t *testing.T) {
		// p and after are fused into one task. Once p is abandoned, after
		// runs as a task of its own: it might be what stops the workers.
		f := newPoisonFlow(t, tg, `name: p
nodes:
  - {id: p, kind: Action, action: poison, on_error: continue}
  - {id: after, kind: Action, action: set, params: {saw: "${{ nodes.p.output.error.message }}"}}
`)
		require.Len(t, f.bp.Code[0].Steps, 2, "p and after are fused")
		res := f.run(maxDeliveries + 1)
		require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
		require.Equal(t, map[string]any{"saw": abandonedFused}, res.Output)
		require.Equal(t, store.Failed, res.Nodes["p"].Status)
		require.Equal(t, map[string]any{"error": map[string]any{"message": abandonedFused, "node": "p", "type": "abandoned"}}, res.Nodes["p"].Output)
		require.Zero(t, f.ran("poison"))
	})

	t.Run("catch", func(t *testing.T) {
		f := newPoisonFlow(t, tg, `name: p
nodes:
  - id: p
    kind: Action
    action: poison
    catch:
      - {id: handle, kind: Action, action: set, params: {caught: "${{ error.message }}", node: "${{ error.node }}"}}
`)
		res := f.run(maxDeliveries)
		require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
		require.Equal(t, map[string]any{"caught": abandoned, "node": "p"}, res.Nodes["p"].Output)
		require.Zero(t, f.ran("poison"))
	})

	t.Run("retry is a new task with its own deliveries", func(t *testing.T) {
		f := newPoisonFlow(t, tg, `name: p
nodes:
  - {id: p, kind: Action, action: poison, retry: {max_attempts: 2, initial_interval: 10ms}}
`)
		res := f.run(maxDeliveries)
		require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
		require.Equal(t, 2, res.Nodes["p"].Attempts, "the abandoned delivery was attempt 1")
		require.Equal(t, 1, f.ran("poison"), "attempt 2 ran")
	})
}

// TestDeliveryLimitFindsTheFusedStep: a task of several fused actions that
// goes over the limit runs its first action alone, so that the action
// blamed is the one that stops the workers, not the first of the task.
func TestDeliveryLimitFindsTheFusedStep(t *testing.T) {
	tg := redistest.New(t)
	const src = `name: p
nodes:
  - {id: prep, kind: Action, action: prep}
  - {id: p, kind: Action, action: poison}
`

	t.Run("first over the limit: the first step runs alone", func(t *testing.T) {
		f := newPoisonFlow(t, tg, src)
		require.Len(t, f.bp.Code[0].Steps, 2, "prep and p are fused")
		res := f.run(maxDeliveries)
		// prep survived; p went on as a new task, within its limit.
		require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
		require.Equal(t, 1, f.ran("prep"))
		require.Equal(t, 1, f.ran("poison"))
	})

	t.Run("the first step alone did not finish either", func(t *testing.T) {
		f := newPoisonFlow(t, tg, src)
		res := f.run(maxDeliveries + 1)
		require.Equal(t, store.Failed, res.Status)
		require.Equal(t, "prep", res.Error.Node)
		require.Equal(t, abandonedFused, res.Error.Message)
		require.Zero(t, f.ran("prep"))
		require.Zero(t, f.ran("poison"))
	})
}
