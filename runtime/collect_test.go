package runtime_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFailFastFalseRunsEveryIteration: a matrix with fail_fast: false runs
// every iteration whatever the others do, then fails listing each failure
// with its iteration, item, node and error.
func TestFailFastFalseRunsEveryIteration(t *testing.T) {
	got := sameEverywhere(t, builtins, `name: matrix
nodes:
  - id: matrix
    kind: Loop
    for_each: "['linux', 'mac', 'windows', 'bsd']"
    as: os
    concurrency: 2
    fail_fast: false
    body:
      - id: build
        kind: If
        condition: os in ['mac', 'bsd']
        then:
          - {id: broken, kind: Action, action: fail, params: {message: "no toolchain for ${{ os }}"}}
        else:
          - {id: ok, kind: Action, action: set, params: {os: "${{ os }}"}}
      - {id: after, kind: Action, action: set, params: {os: "${{ os }}"}}
  - {id: never, kind: Action, action: noop}
`)
	require.Contains(t, got, `status failed
error matrix: 2 of 4 iterations failed: iteration 1 (item "mac"): broken: no toolchain for mac; iteration 3 (item "bsd"): broken: no toolchain for bsd
`)
	require.Contains(t, got, "build failed")
	require.NotContains(t, got, "never")
}

// TestFailFastFalseHandlers: on_error: continue on a fail_fast: false
// Parallel records every failure as its output and goes on; catch sees
// them all in error; a nested Parallel's failure reaches the outer one.
func TestFailFastFalseHandlers(t *testing.T) {
	got := sameEverywhere(t, builtins, `name: handled
nodes:
  - id: par
    kind: Parallel
    fail_fast: false
    on_error: continue
    branches:
      - - {id: p1, kind: Action, action: fail, params: {message: p1 down}}
      - - {id: p2, kind: Action, action: set, params: {v: 2}}
      - - id: inner
          kind: Parallel
          branches:
            - - {id: i1, kind: Action, action: noop}
            - - {id: i2, kind: Action, action: fail, params: {message: i2 down}}
  - id: each
    kind: Loop
    for_each: "[1, 2, 3]"
    fail_fast: false
    catch:
      - {id: report, kind: Action, action: set, params: {n: "${{ len(error.failures) }}", first: "${{ error.failures[0] }}"}}
    body:
      - id: check
        kind: Action
        action: fail
        params: {message: "odd ${{ item }}"}
        on_error: continue
      - id: maybe
        kind: If
        condition: item % 2 == 1
        then:
          - {id: odd, kind: Action, action: fail, params: {message: "odd ${{ item }}"}}
output: "${{ {par: nodes.par.output.error.failures, each: nodes.each.output} }}"
`)
	require.Contains(t, got, "status succeeded\n")
	require.Contains(t, got, `output {"each":{"first":{"item":1,"iteration":0,"message":"odd 1","node":"odd"},"n":2},"par":[{"branch":0,"message":"p1 down","node":"p1"},{"branch":2,"message":"1 of 2 branches failed: branch 1: i2: i2 down","node":"inner"}]}`)
	require.Contains(t, got, "each failed")
	require.Contains(t, got, "par failed")
}
