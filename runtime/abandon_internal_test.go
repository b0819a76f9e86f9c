package runtime

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/store"
)

func TestRedeliveryOf(t *testing.T) {
	tk := func(kind store.TaskKind, step, n, limit int32) *store.Task {
		return &store.Task{Kind: kind, Step: step, Deliveries: n, MaxDeliveries: limit}
	}
	for _, c := range []struct {
		name  string
		task  *store.Task
		steps int
		want  redelivery
	}{
		{"not counted", tk(store.Exec, 0, 0, 0), 1, runAll},
		{"no limit", tk(store.Exec, 0, 99, 0), 1, runAll},
		{"first delivery", tk(store.Exec, 0, 1, 5), 1, runAll},
		{"at the limit", tk(store.Exec, 0, 5, 5), 3, runAll},
		{"over, one step", tk(store.Exec, 0, 6, 5), 1, abandon},
		{"over, one step left", tk(store.Exec, 2, 6, 5), 3, abandon},
		{"just over, steps left", tk(store.Exec, 1, 6, 5), 3, runFirst},
		{"further over, steps left", tk(store.Exec, 1, 7, 5), 3, abandon},
		{"resume", tk(store.Resume, 0, 50, 5), 0, runAll},
		{"timer", tk(store.Timer, 0, 50, 5), 0, runAll},
	} {
		require.Equal(t, c.want, redeliveryOf(c.task, c.steps), c.name)
	}
}

// TestAbandonedTaskTransition checks what a worker hands the store for a
// task of two fused actions delivered too often: the first action's
// failure (or result), and the second as a new task rather than run inline.
func TestAbandonedTaskTransition(t *testing.T) {
	reg := action.Builtins()
	var ran atomic.Int32
	require.NoError(t, action.Register(reg, "poison", func(context.Context, struct{}) (any, error) {
		ran.Add(1)
		return "ran", nil
	}))
	bp, errs := compiler.Compile("p.yaml", []byte(`name: p
nodes:
  - {id: p, kind: Action, action: poison, on_error: continue}
  - {id: after, kind: Action, action: poison}
`), compiler.Options{Registry: reg})
	require.Empty(t, errs)
	require.Len(t, bp.Code[0].Steps, 2)
	p, err := newProgram(bp)
	require.NoError(t, err)
	e := New(WithRegistry(reg))
	hdr := &store.Run{ID: "r", Workflow: "p", Hash: bp.Hash}
	info := newRunInfo(hdr)
	// The run exists with its token where the task says, so that the
	// start of a step is recorded and the step runs.
	require.NoError(t, e.store.CreateRun(context.Background(), hdr, &store.Transition{Tokens: []store.TokenSet{{ID: "root", Seq: 7}}}))
	compute := func(deliveries int32) *store.Transition {
		t.Helper()
		task := &store.Task{Run: "r", Hash: bp.Hash, Kind: store.Exec, Token: "root", Seq: 7, PC: 0, Attempt: 1,
			Deliveries: deliveries, MaxDeliveries: 2}
		tr, err := e.compute(context.Background(), p, info, task, nil, time.Time{})
		require.NoError(t, err)
		return tr
	}
	next := func(tr *store.Transition) *store.Task {
		t.Helper()
		require.Len(t, tr.Tasks, 1)
		nt := tr.Tasks[0]
		require.Equal(t, store.Exec, nt.Kind)
		require.EqualValues(t, 0, nt.PC)
		require.EqualValues(t, 1, nt.Step, "the second action is a task of its own")
		require.EqualValues(t, 1, nt.Attempt)
		require.EqualValues(t, 8, nt.Seq)
		require.Zero(t, nt.Deliveries)
		return nt
	}

	// Just over the limit: the first action runs alone.
	tr := compute(3)
	require.EqualValues(t, 1, ran.Load())
	require.Len(t, tr.Records, 1)
	require.Equal(t, "p", tr.Records[0].Key)
	require.Equal(t, store.Succeeded, tr.Records[0].Status)
	next(tr)
	require.Nil(t, tr.End)

	// Further over: the first action is abandoned, its node goes on (on_error:
	// continue), and the second action is not run here.
	tr = compute(4)
	require.EqualValues(t, 1, ran.Load(), "nothing ran")
	require.Len(t, tr.Records, 1)
	rec := tr.Records[0]
	require.Equal(t, "p", rec.Key)
	require.Equal(t, store.Failed, rec.Status)
	msg := "task abandoned after 3 deliveries: the workers running it stopped before finishing (crash, kill or lost lease)"
	require.Equal(t, &store.ErrorInfo{Node: "p", Type: "abandoned", Message: msg}, rec.Error)
	require.Equal(t, map[string]any{"error": map[string]any{"message": msg, "node": "p", "type": "abandoned"}}, rec.Output)
	next(tr)
	require.Nil(t, tr.End)

	// Within the limit both run back to back, as always.
	tr = compute(2)
	require.EqualValues(t, 3, ran.Load())
	require.Len(t, tr.Records, 2)
	require.NotNil(t, tr.End, "the run ends after the last action")
}
