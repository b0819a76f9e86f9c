package runtime_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
)

// valuesFlow hands durations, times and big integers across every place a
// value enters a store: loop items, Call args, action outputs, a group's
// list, the run's output.
const valuesFlow = `
name: values
functions:
  later:
    params: [d]
    nodes:
      - {id: add, kind: Action, action: set, params: {v: "${{ params.d + duration('1s') }}"}}
nodes:
  - id: spans
    kind: Loop
    for_each: "${{ [duration('1s'), duration('90m')] }}"
    body:
      - {id: longer, kind: Action, action: set, params: {v: "${{ item + duration('1s') }}"}}
  - {id: call, kind: Call, function: later, args: {d: "${{ duration('2m') }}"}}
  - id: when
    kind: Action
    action: set
    params:
      t: "${{ date('2024-02-29T12:00:00+02:00') }}"
      big: "${{ 9007199254740993 }}"
  - {id: after, kind: Action, action: set, params: {hour: "${{ nodes.when.output.t.Hour() }}", next: "${{ nodes.when.output.t + duration('24h') }}"}}
output: "${{ {spans: map(nodes.spans.output, #.v), call: nodes.call.output.v, when: nodes.when.output, after: nodes.after.output, sum: nodes.spans.output[0].v + nodes.spans.output[1].v} }}"
`

// TestValuesAgreeOnEveryStore: one workflow, the same output (the same Go
// values) on the memory store, on it with the codec, and on Redis.
func TestValuesAgreeOnEveryStore(t *testing.T) {
	bp, errs := compiler.Compile("values.yaml", []byte(valuesFlow), compiler.Options{})
	require.Empty(t, errs)
	east := time.FixedZone("", 2*3600)
	want := map[string]any{
		"spans": []any{2 * time.Second, 90*time.Minute + time.Second},
		"call":  2*time.Minute + time.Second,
		"when":  map[string]any{"t": time.Date(2024, 2, 29, 12, 0, 0, 0, east), "big": 9007199254740993},
		"after": map[string]any{"hour": 12, "next": time.Date(2024, 3, 1, 12, 0, 0, 0, east)},
		"sum":   90*time.Minute + 3*time.Second,
	}
	onStores(t, func(t *testing.T, st store.Store) {
		res := runWith(t, runtime.New(runtime.WithStore(st)), runtime.WorkerOptions{Grace: time.Second, Concurrency: 4}, bp, nil)
		require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
		require.Equal(t, want, res.Output)
	})
}

// TestValueThatNoStoreKeeps fails its node with the place it was found.
func TestValueThatNoStoreKeeps(t *testing.T) {
	bp, errs := compiler.Compile("inf.yaml", []byte(`
name: inf
nodes:
  - {id: a, kind: Action, action: set, params: {x: {y: "${{ [1, 1.0 / 0] }}"}}}
`), compiler.Options{})
	require.Empty(t, errs)
	onStores(t, func(t *testing.T, st store.Store) {
		res := runWith(t, runtime.New(runtime.WithStore(st)), runtime.WorkerOptions{Grace: time.Second}, bp, nil)
		require.Equal(t, store.Failed, res.Status)
		require.Equal(t, "a", res.Error.Node)
		require.Contains(t, res.Error.Message, "at x.y[1]: +Inf is not a finite number")
	})
}
