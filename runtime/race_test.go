package runtime_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRaceFirstSuccessWins: the first branch to succeed wins (a poll
// racing a timer that never fires); the output names it, and the run goes
// on without waiting for the loser, whose action the run's end cancels.
func TestRaceFirstSuccessWins(t *testing.T) {
	var g gates
	got := sameEverywhere(t, g.registry, `name: race
nodes:
  - id: race
    kind: Parallel
    mode: first
    branches:
      - - {id: timer, kind: Action, action: hold, params: {name: "never ${{ run.id }}"}}
        - {id: timed-out, kind: Action, action: fail, params: {message: timed out}}
      - - {id: poll, kind: Action, action: set, params: {ready: true}}
        - {id: done, kind: Action, action: set, params: {v: "${{ nodes.poll.output.ready }}"}}
  - {id: after, kind: Action, action: set, params: {winner: "${{ nodes.race.output.branch }}", v: "${{ nodes.race.output.output.v }}"}}
`, "timer", "timed-out")
	require.Contains(t, got, "status succeeded\n")
	require.Contains(t, got, `race succeeded {"branch":1,"output":{"v":true}}`)
	require.Contains(t, got, `after succeeded {"v":true,"winner":1}`)
}

// TestRaceAllFail: when every branch fails the race fails with each
// branch's error; on_error: continue records them all.
func TestRaceAllFail(t *testing.T) {
	got := sameEverywhere(t, builtins, `name: lost
nodes:
  - id: handled
    kind: Parallel
    mode: first
    on_error: continue
    branches:
      - - {id: a, kind: Action, action: fail, params: {message: mirror a down}}
      - - {id: b, kind: Action, action: fail, params: {message: mirror b down}}
  - id: race
    kind: Parallel
    mode: first
    branches:
      - - {id: c, kind: Action, action: fail, params: {message: c down}}
      - - {id: d, kind: Action, action: fail, params: {message: d down}}
`)
	require.Contains(t, got, `handled failed {"error":{"failures":[{"branch":0,"message":"mirror a down","node":"a"},{"branch":1,"message":"mirror b down","node":"b"}],"message":"2 of 2 branches failed: branch 0: a: mirror a down; branch 1: b: mirror b down","node":"handled"}}`)
	require.Contains(t, got, "status failed\nerror race: 2 of 2 branches failed: branch 0: c: c down; branch 1: d: d down\n")
}
