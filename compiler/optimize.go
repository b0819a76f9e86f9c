package compiler

import "github.com/skript-dev/skript/blueprint"

// Pass is one optimizer pass. Each pass lives in its own opt_*.go file, is
// tested on its own, and can be switched off by name; any subset of passes
// must leave a run's results unchanged.
type Pass struct {
	// Name is the flag users pass to switch it off (--no-opt-NAME).
	Name string
	// Doc is a one-line description for `skript compile --help`.
	Doc string
	// Run rewrites the program in place.
	Run func(bp *blueprint.Blueprint)
}

// Passes lists every optimizer pass in the order they run. The order
// matters for the result, not for correctness: fold turns constant branches
// into jumps, dce then drops the untaken code, thread removes the jumps left
// behind, parallel1 works on the simplified branches, and fuse runs last so
// it sees the longest runs of adjacent Tasks.
var Passes = []Pass{foldPass, dcePass, threadPass, parallel1Pass, fusePass}

// optimize runs the enabled passes.
func optimize(bp *blueprint.Blueprint, disabled map[string]bool) {
	for _, p := range Passes {
		if !disabled[p.Name] {
			p.Run(bp)
		}
	}
}
