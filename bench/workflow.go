// Package bench is the logic of `skript bench`: the workflow it runs, the
// goroutine baseline it compares against, the auto-tuner that finds the
// load at which throughput stops growing, and the figures it reports.
//
// The command (cmd/skript/bench.go) only parses flags and prints; the Go
// benchmarks beside the runtime and the stores use the same workflow, so
// every figure in bench/README.md measures the same thing.
package bench

import (
	"fmt"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/compiler"
)

// Workflow returns the benchmark workflow for a fan-out of n: one Loop
// for_each over 0..n-1 with no concurrency limit, whose body is one noop
// Action. It compiles to a Map, one Task and a Join, so a run is one
// transition that enqueues n tasks, n task completions that each pass the
// join's counter, and one Resume of the parent that ends the run.
//
// A Loop rather than a Parallel of n branches keeps the Blueprint four
// instructions long whatever n is, so compiling it stays out of the
// figures, and it is the shape of real fan-outs (one action per item of a
// list).
func Workflow(n int) []byte {
	if n < 1 {
		n = 1
	}
	return fmt.Appendf(nil, `name: bench
description: %d no-op Actions fanned out at once and joined
nodes:
  - id: fan
    kind: Loop
    for_each: "0..%d"
    concurrency: 0
    max_iterations: %d
    body:
      - {id: work, kind: Action, action: noop}
`, n, n-1, max(n, 1))
}

// Compile compiles Workflow(n) with the real compiler and the built-in
// actions.
func Compile(n int) (*blueprint.Blueprint, error) {
	bp, errs := compiler.Compile("bench.yaml", Workflow(n), compiler.Options{Registry: action.Builtins()})
	if len(errs) > 0 {
		return nil, errs
	}
	return bp, nil
}
