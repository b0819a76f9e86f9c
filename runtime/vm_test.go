package runtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// runBP runs a hand-built Blueprint on the memory store with one worker.
func runBP(t *testing.T, bp *blueprint.Blueprint, inputs map[string]any) *runtime.Result {
	t.Helper()
	return runWith(t, runtime.New(), runtime.WorkerOptions{Grace: time.Second}, bp, inputs)
}

// runWith runs bp to its end on eng with one worker, and stops the worker.
func runWith(t *testing.T, eng *runtime.Engine, wopts runtime.WorkerOptions, bp *blueprint.Blueprint, inputs map[string]any) *runtime.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = eng.Work(wctx, wopts)
	}()
	defer func() { stop(); <-done }()
	run, err := eng.Start(ctx, bp, inputs)
	require.NoError(t, err)
	res, err := run.Wait(ctx)
	require.NoError(t, err)
	return res
}

func node(id, kind string, loop int32) blueprint.Node {
	return blueprint.Node{ID: id, Kind: kind, Loop: loop}
}

func task(n int32, action string, params int32) blueprint.Instr {
	return blueprint.Instr{Op: blueprint.OpTask, Node: n, Expr: -1,
		Steps: []blueprint.Step{{Node: n, Action: action, Params: params, Catch: -1, Retry: blueprint.Retry{MaxAttempts: 1}}}}
}

func TestForkJoinCollectsBranchOutputs(t *testing.T) {
	bp := &blueprint.Blueprint{Name: "par", Output: -1,
		Nodes: []blueprint.Node{node("par", "Parallel", -1), node("a", "Action", -1), node("b", "Action", -1), node("after", "Action", -1)},
		Exprs: []blueprint.Expr{
			{Src: `{"v": 1}`, Const: true, Value: map[string]any{"v": 1}},
			{Src: `{"v": 2}`, Const: true, Value: map[string]any{"v": 2}},
			{Src: `{"n": len(nodes.par.output), "first": nodes.par.output[0].v}`, Refs: []blueprint.Ref{{Name: "par", Node: 0}}},
		},
		Code: []blueprint.Instr{
			{Op: blueprint.OpFork, Node: 0, Expr: -1, Targets: []int32{1, 3}, Target: 5},
			task(1, "set", 0),
			{Op: blueprint.OpJoin, Node: 0, Expr: -1},
			task(2, "set", 1),
			{Op: blueprint.OpJoin, Node: 0, Expr: -1},
			task(3, "set", 2),
			{Op: blueprint.OpEnd, Node: -1, Expr: -1},
		}}
	res := runBP(t, bp, nil)
	require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
	require.Equal(t, []any{map[string]any{"v": 1}, map[string]any{"v": 2}}, res.Nodes["par"].Output)
	require.Equal(t, map[string]any{"n": 2, "first": 1}, res.Output)
}

func TestMapRunsBodyPerItemWithBoundedConcurrency(t *testing.T) {
	bp := &blueprint.Blueprint{Name: "map", Output: -1,
		Nodes: []blueprint.Node{node("each", "Loop", -1), node("dbl", "Action", 0)},
		Exprs: []blueprint.Expr{
			{Src: `[3, 1, 4]`, Const: true, Value: []any{3, 1, 4}},
			{Src: `{"v": item * 2, "i": index}`, Vars: []blueprint.Var{{Name: "item", Kind: blueprint.VarItem, Node: 0}, {Name: "index", Kind: blueprint.VarIndex, Node: 0}}},
		},
		Code: []blueprint.Instr{
			{Op: blueprint.OpMap, Node: 0, Expr: 0, Target: 3, Concurrency: 2, Max: 10},
			task(1, "set", 1),
			{Op: blueprint.OpJoin, Node: 0, Expr: -1},
			{Op: blueprint.OpEnd, Node: -1, Expr: -1},
		}}
	res := runBP(t, bp, nil)
	require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
	require.Equal(t, []any{map[string]any{"v": 6, "i": 0}, map[string]any{"v": 2, "i": 1}, map[string]any{"v": 8, "i": 2}}, res.Output)
	require.Equal(t, map[string]any{"v": 8, "i": 2}, res.Nodes["dbl"].Output, "a loop body node shows its last iteration")
}

func TestWhileLoopAndMaxIterations(t *testing.T) {
	mk := func(cond string, max int) *blueprint.Blueprint {
		return &blueprint.Blueprint{Name: "while", Output: -1,
			Nodes: []blueprint.Node{node("count", "Loop", -1), node("step", "Action", 0)},
			Exprs: []blueprint.Expr{
				{Src: cond, Vars: []blueprint.Var{{Name: "iteration", Kind: blueprint.VarIteration, Node: 0}}},
				{Src: `{"i": iteration}`, Vars: []blueprint.Var{{Name: "iteration", Kind: blueprint.VarIteration, Node: 0}}},
			},
			Code: []blueprint.Instr{
				{Op: blueprint.OpEnter, Node: 0, Expr: -1},
				{Op: blueprint.OpWhile, Node: 0, Expr: 0, Target: 4, Max: max},
				task(1, "set", 1),
				{Op: blueprint.OpNext, Node: 0, Expr: -1, Target: 1},
				{Op: blueprint.OpEnd, Node: -1, Expr: -1},
			}}
	}
	res := runBP(t, mk("iteration < 3", 100), nil)
	require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
	require.Equal(t, []any{map[string]any{"i": 0}, map[string]any{"i": 1}, map[string]any{"i": 2}}, res.Output)

	res = runBP(t, mk("true", 4), nil)
	require.Equal(t, store.Failed, res.Status)
	require.Equal(t, "count", res.Error.Node)
	require.Contains(t, res.Error.Message, "max_iterations (4)")
}

func TestRetryThenCatch(t *testing.T) {
	bp := &blueprint.Blueprint{Name: "catch", Output: -1,
		Nodes: []blueprint.Node{node("risky", "Action", -1), node("handle", "Action", -1)},
		Exprs: []blueprint.Expr{
			{Src: `{"message": "card declined", "type": "card.declined"}`, Const: true, Value: map[string]any{"message": "card declined", "type": "card.declined"}},
			{Src: `{"why": error.message}`, Vars: []blueprint.Var{{Name: "error", Kind: blueprint.VarError, Node: 0}}},
		},
		Code: []blueprint.Instr{
			{Op: blueprint.OpTask, Node: 0, Expr: -1, Steps: []blueprint.Step{{Node: 0, Action: "fail", Params: 0, Catch: 2,
				Retry: blueprint.Retry{MaxAttempts: 3, InitialInterval: time.Millisecond}}}},
			{Op: blueprint.OpJump, Node: -1, Expr: -1, Target: 4},
			task(1, "set", 1),
			{Op: blueprint.OpLeave, Node: 0, Expr: -1, Failed: true},
			{Op: blueprint.OpEnd, Node: -1, Expr: -1},
		}}
	res := runBP(t, bp, nil)
	require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
	require.Equal(t, map[string]any{"why": "card declined"}, res.Output)
	require.Equal(t, 3, res.Nodes["risky"].Attempts)
	require.Equal(t, store.Failed, res.Nodes["risky"].Status)
}

func TestFailFastCancelsSiblings(t *testing.T) {
	bp := &blueprint.Blueprint{Name: "ff", Output: -1,
		Nodes: []blueprint.Node{node("par", "Parallel", -1), node("boom", "Action", -1), node("long", "Action", -1)},
		Exprs: []blueprint.Expr{
			{Src: `{"message": "bad"}`, Const: true, Value: map[string]any{"message": "bad"}},
			{Src: `{"duration": "10s"}`, Const: true, Value: map[string]any{"duration": "10s"}},
		},
		Code: []blueprint.Instr{
			{Op: blueprint.OpFork, Node: 0, Expr: -1, Targets: []int32{1, 3}, Target: 5},
			task(1, "fail", 0),
			{Op: blueprint.OpJoin, Node: 0, Expr: -1},
			task(2, "sleep", 1),
			{Op: blueprint.OpJoin, Node: 0, Expr: -1},
			{Op: blueprint.OpEnd, Node: -1, Expr: -1},
		}}
	start := time.Now()
	res := runBP(t, bp, nil)
	require.Less(t, time.Since(start), 5*time.Second)
	require.Equal(t, store.Failed, res.Status)
	require.Equal(t, "boom", res.Error.Node)
	require.Equal(t, "bad", res.Error.Message)
}

func TestWaitResumes(t *testing.T) {
	bp := &blueprint.Blueprint{Name: "wait", Output: -1,
		Nodes: []blueprint.Node{node("pause", "Wait", -1)},
		Exprs: []blueprint.Expr{{Src: `"150ms"`, Const: true, Value: "150ms"}},
		Code: []blueprint.Instr{
			{Op: blueprint.OpWait, Node: 0, Expr: 0},
			{Op: blueprint.OpEnd, Node: -1, Expr: -1},
		}}
	start := time.Now()
	res := runBP(t, bp, nil)
	require.Equal(t, store.Succeeded, res.Status)
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	require.Equal(t, store.Succeeded, res.Nodes["pause"].Status)
}

func TestPanickingActionFailsItsNode(t *testing.T) {
	reg := action.Builtins()
	require.NoError(t, action.Register(reg, "explode", func(context.Context, struct{}) (any, error) {
		panic("boom")
	}))
	bp := &blueprint.Blueprint{Name: "panic", Output: -1,
		Nodes: []blueprint.Node{node("x", "Action", -1)},
		Code: []blueprint.Instr{
			task(0, "explode", -1),
			{Op: blueprint.OpEnd, Node: -1, Expr: -1},
		}}
	res := runWith(t, runtime.New(runtime.WithRegistry(reg)), runtime.WorkerOptions{Grace: time.Second}, bp, nil)
	require.Equal(t, store.Failed, res.Status)
	require.Equal(t, "x", res.Error.Node)
	require.Contains(t, res.Error.Message, `action "explode" panicked: boom`)
}
