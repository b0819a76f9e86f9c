package runtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
)

// These tests run workflows of the language's newer constructs on every
// store and under every optimizer setting, and check that each setting
// gives the same run: the same status, error, output and node records.

// optSettings are the optimizer settings every construct is run under:
// all passes, none, and each pass switched off alone.
func optSettings() map[string]compiler.Options {
	out := map[string]compiler.Options{"all": {}, "none": {NoOpt: true}}
	for _, p := range compiler.Passes {
		out["no-"+p.Name] = compiler.Options{Disabled: map[string]bool{p.Name: true}}
	}
	return out
}

// gates is a registry with the built-ins and two actions that make one
// node wait for another without a clock: `hold` blocks until `open` with
// the same name has run (or the test's time runs out).
type gates struct {
	mu sync.Mutex
	ch map[string]chan struct{}
}

func (g *gates) gate(name string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ch == nil {
		g.ch = map[string]chan struct{}{}
	}
	if g.ch[name] == nil {
		g.ch[name] = make(chan struct{})
	}
	return g.ch[name]
}

type gateParams struct {
	Name string `json:"name"`
}

func (g *gates) registry(t *testing.T) *action.Registry {
	reg := action.Builtins()
	require.NoError(t, action.Register(reg, "hold", func(ctx context.Context, p gateParams) (any, error) {
		select {
		case <-g.gate(p.Name):
			return "released", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(15 * time.Second):
			return nil, fmt.Errorf("gate %q was never opened", p.Name)
		}
	}))
	require.NoError(t, action.Register(reg, "open", func(_ context.Context, p gateParams) (any, error) {
		ch := g.gate(p.Name)
		g.mu.Lock()
		defer g.mu.Unlock()
		select {
		case <-ch:
		default:
			close(ch)
		}
		return "opened", nil
	}))
	return reg
}

// runSummary is what a run shows a user, without times or ids.
func runSummary(t *testing.T, st store.Store, reg *action.Registry, src string, opts compiler.Options) string {
	t.Helper()
	opts.Registry = reg
	bp, errs := compiler.Compile("flow.yaml", []byte(src), opts)
	require.Empty(t, errs)
	eng := runtime.New(runtime.WithStore(st), runtime.WithRegistry(reg))
	res := runWith(t, eng, runtime.WorkerOptions{Grace: time.Second}, bp, nil)
	var b strings.Builder
	fmt.Fprintf(&b, "status %s\n", res.Status)
	if res.Error != nil {
		fmt.Fprintf(&b, "error %s: %s\n", res.Error.Node, res.Error.Message)
	}
	out, err := json.Marshal(res.Output)
	require.NoError(t, err)
	fmt.Fprintf(&b, "output %s\n", out)
	ids := make([]string, 0, len(res.Nodes))
	for id := range res.Nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		n := res.Nodes[id]
		o, err := json.Marshal(n.Output)
		require.NoError(t, err)
		fmt.Fprintf(&b, "%s %s %s\n", id, n.Status, o)
	}
	return b.String()
}

// sameEverywhere runs src under every optimizer setting on every store
// and returns the one summary they all gave. The records of the nodes
// named in skip are left out of it: what a race's losers did before the
// winner stopped them depends on timing.
func sameEverywhere(t *testing.T, reg func(t *testing.T) *action.Registry, src string, skip ...string) string {
	t.Helper()
	var mu sync.Mutex
	var first, firstName string
	onStores(t, func(t *testing.T, st store.Store) {
		for name, opts := range optSettings() {
			got := withoutNodes(runSummary(t, st, reg(t), src, opts), skip)
			mu.Lock()
			if first == "" {
				first, firstName = got, t.Name()+"/"+name
			}
			mu.Unlock()
			require.Equal(t, first, got, "%s/%s differs from %s", t.Name(), name, firstName)
		}
	})
	return first
}

const buildGraph = `name: build-graph
nodes:
  - id: pipeline
    kind: Graph
    graph:
      - {id: checkout, kind: Action, action: set, params: {rev: abc123}}
      - {id: build-a, kind: Action, action: set, params: {a: 1}, depends: checkout}
      # build-b finishes only once test-a has run: test-a must not wait
      # for it, as a nesting of Parallels would make it.
      - {id: build-b, kind: Action, action: hold, params: {name: "${{ run.id }}"}, depends: checkout}
      - id: test-a
        kind: Action
        action: open
        params: {name: "${{ run.id }}"}
        depends: build-a
      - {id: test-b, kind: Action, action: set, params: {ok: "${{ nodes['build-b'].output }}"}, depends: [build-a, build-b]}
      - id: deploy
        kind: Action
        action: set
        params: {rev: "${{ nodes.checkout.output.rev }}", a: "${{ nodes['test-a'].output }}", b: "${{ nodes['test-b'].output.ok }}"}
        depends: [test-a, test-b]
      - {id: cleanup, kind: Action, action: set, params: {done: true}, depends: [deploy], trigger_rule: all_done}
      - {id: page, kind: Action, action: set, params: {paged: true}, depends: [build-a, build-b], trigger_rule: any_failed}
  - {id: after, kind: Action, action: set, params: {deployed: "${{ nodes.deploy.output.rev }}", page: "${{ nodes.page.status }}"}}
`

// TestGraphRunsEveryReadyNode: a DAG that is not series-parallel runs
// each node as soon as what it depends on has finished (build-b can only
// finish after test-a ran), skips the handler whose rule does not hold,
// and reads outputs of transitive dependencies.
func TestGraphRunsEveryReadyNode(t *testing.T) {
	var g gates
	got := sameEverywhere(t, g.registry, buildGraph)
	require.Contains(t, got, "status succeeded\n")
	require.Contains(t, got, `output {"deployed":"abc123","page":"skipped"}`)
	require.Contains(t, got, "page skipped null\n")
	require.Contains(t, got, `deploy succeeded {"a":"opened","b":"released","rev":"abc123"}`)
	require.Contains(t, got, `cleanup succeeded {"done":true}`)
	require.Contains(t, got, `pipeline succeeded [{"rev":"abc123"},{"a":1},"released","opened",{"ok":"released"},{"a":"opened","b":"released","rev":"abc123"},{"done":true},null]`)
}

// TestGraphTriggerRules: a failure that an any_failed node handles does
// not fail the graph; the nodes that needed success are skipped, and so
// are the ones after them; a teardown (all_done) runs after a failure,
// which then still fails the run once every node has finished.
func TestGraphTriggerRules(t *testing.T) {
	reg := func(*testing.T) *action.Registry { return action.Builtins() }
	handled := sameEverywhere(t, reg, `name: rules
nodes:
  - id: g
    kind: Graph
    graph:
      - {id: a, kind: Action, action: set, params: {v: 1}}
      - {id: b, kind: Action, action: fail, params: {message: b broke}, depends: a}
      - {id: c, kind: Action, action: set, params: {v: 3}, depends: b}
      - {id: d, kind: Action, action: set, params: {v: 4}, depends: c}
      - {id: handler, kind: Action, action: set, params: {err: "${{ nodes.b.output.error.message }}"}, depends: b, trigger_rule: any_failed}
      - {id: join, kind: Action, action: set, params: {v: 6}, depends: [a, c], trigger_rule: none_failed_min_one_success}
      - {id: strict, kind: Action, action: set, params: {v: 7}, depends: [a, c], trigger_rule: all_succeeded}
`)
	require.Contains(t, handled, "status succeeded\n")
	for _, want := range []string{
		"b failed {\"error\":{\"message\":\"b broke\",\"node\":\"b\"}}\n", "c skipped null\n", "d skipped null\n",
		"handler succeeded {\"err\":\"b broke\"}\n", "join succeeded {\"v\":6}\n", "strict skipped null\n",
	} {
		require.Contains(t, handled, want)
	}

	teardown := sameEverywhere(t, reg, `name: teardown
nodes:
  - id: g
    kind: Graph
    graph:
      - {id: setup, kind: Action, action: set, params: {v: 1}}
      - {id: work, kind: Action, action: fail, params: {message: work broke}, depends: setup}
      - {id: more, kind: Action, action: set, params: {v: 2}, depends: setup}
      - {id: teardown, kind: Action, action: set, params: {saw: "${{ nodes.work.status }}"}, depends: [work, more], trigger_rule: all_done}
  - {id: never, kind: Action, action: noop}
`)
	require.Contains(t, teardown, "status failed\nerror work: work broke\n")
	require.Contains(t, teardown, "teardown succeeded {\"saw\":\"failed\"}\n")
	require.Contains(t, teardown, "g failed")
	require.NotContains(t, teardown, "never")
}

// TestGraphNodeFailureFailsTheRun: a failure no rule runs after fails the
// run at once, with the Graph around it, as in a sequence.
func TestGraphNodeFailureFailsTheRun(t *testing.T) {
	reg := func(*testing.T) *action.Registry { return action.Builtins() }
	got := sameEverywhere(t, reg, `name: failing
nodes:
  - id: g
    kind: Graph
    graph:
      - {id: a, kind: Action, action: fail, params: {message: boom}}
      - {id: b, kind: Action, action: set, params: {v: 1}, depends: a}
`)
	require.Contains(t, got, "status failed\nerror a: boom\n")
	require.Contains(t, got, "g failed")
	require.NotContains(t, got, "\nb ")
}

// TestGraphInLoopIterations: graphs in concurrent loop iterations, with
// nested composites as nodes, keep their own records and waits.
func TestGraphInLoopIterations(t *testing.T) {
	reg := func(*testing.T) *action.Registry { return action.Builtins() }
	got := sameEverywhere(t, reg, `name: looped
nodes:
  - id: each
    kind: Loop
    for_each: "[1, 2, 3, 4]"
    concurrency: 0
    body:
      - id: g
        kind: Graph
        graph:
          - {id: x, kind: Action, action: set, params: {v: "${{ item }}"}}
          - id: y
            kind: Parallel
            depends: x
            branches:
              - - {id: y1, kind: Action, action: set, params: {v: "${{ nodes.x.output.v * 10 }}"}}
              - - {id: y2, kind: Action, action: noop}
          - id: z
            kind: If
            depends: x
            condition: nodes.x.output.v % 2 == 0
            then:
              - {id: even, kind: Action, action: set, params: {v: even}}
          - {id: w, kind: Action, action: set, params: {sum: "${{ nodes.y.output[0].v + nodes.x.output.v }}", z: "${{ nodes.z.output }}"}, depends: [y, z]}
      - {id: out, kind: Action, action: set, params: {v: "${{ nodes.w.output }}"}}
output: "${{ map(nodes.each.output, #.v) }}"
`)
	require.Contains(t, got, `output [{"sum":11,"z":null},{"sum":22,"z":{"v":"even"}},{"sum":33,"z":null},{"sum":44,"z":{"v":"even"}}]`)
}

// withoutNodes drops the summary lines of the nodes in skip.
func withoutNodes(summary string, skip []string) string {
	if len(skip) == 0 {
		return summary
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(summary, "\n") {
		id, _, _ := strings.Cut(line, " ")
		if !slices.Contains(skip, id) {
			b.WriteString(line)
		}
	}
	return b.String()
}
