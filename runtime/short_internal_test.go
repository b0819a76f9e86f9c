package runtime

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/store"
)

func TestClassifyShortTasks(t *testing.T) {
	bp, errs := compiler.Compile("c.yaml", []byte(`name: c
inputs:
  n: {type: integer, default: 5}
nodes:
  - id: first
    kind: Action
    action: noop
  - id: each
    kind: Loop
    for_each: "0..(input.n - 1)"
    concurrency: 0
    body:
      - {id: double, kind: Action, action: set, params: {v: "${{ item * 2 }}"}}
  - id: nap
    kind: Action
    action: sleep
    params: {duration: 1ms}
  - id: after
    kind: Action
    action: set
    params: {v: "${{ nodes.nap.status }}"}
`), compiler.Options{})
	require.Empty(t, errs)
	// 0 Task noop(first); 1 Map -> 4; 2 Task set(double); 3 Join;
	// 4 Task sleep(nap), set(after); 5 End.
	require.Len(t, bp.Code, 6)
	p, err := newProgram(bp)
	require.NoError(t, err)
	exec := func(pc int32) *store.Task { return &store.Task{Kind: store.Exec, PC: pc} }
	resume := func(pc int32, last bool) *store.Task {
		tk := &store.Task{Kind: store.Resume, PC: pc}
		if last {
			tk.Last = &store.RecordKey{Key: "each"}
		}
		return tk
	}

	// A store across the network: only what reads no record is short.
	p.short, p.localReads = classify(p, action.Builtins(), false), false
	require.True(t, p.isShort(exec(0)), "noop, then a Map over an input: no record read")
	require.False(t, p.isShort(exec(2)), "set reads item")
	require.False(t, p.isShort(exec(4)), "sleep blocks")
	require.False(t, p.isShort(resume(4, true)), "the parent reads the loop's list")
	require.True(t, p.isShort(resume(2, false)), "a late child starts at a Task")
	require.False(t, p.isShort(&store.Task{Kind: store.Exec, PC: 99}), "a bad pc goes the long way, which reports it")

	// In this process every read is local: only blocking actions are not short.
	p.short, p.localReads = classify(p, action.Builtins(), true), true
	require.True(t, p.isShort(exec(0)))
	require.True(t, p.isShort(exec(2)))
	require.False(t, p.isShort(exec(4)))
	require.True(t, p.isShort(resume(4, true)))

	// An action the registry does not have is never short.
	reg := action.Builtins()
	reg.Remove("noop")
	p.short = classify(p, reg, true)
	require.False(t, p.isShort(exec(0)))
}
