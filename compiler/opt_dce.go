package compiler

import "github.com/skript-dev/skript/blueprint"

// dcePass removes code no token can reach.
var dcePass = Pass{
	Name: "dce",
	Doc:  "remove unreachable code (untaken constant branches, code after a certain failure)",
	Run:  dce,
}

// dce deletes every instruction that is unreachable from pc 0. After fold
// this is the untaken side of a constant If or Switch case; it is also the
// code after a step that always fails without on_error: continue (see
// reachable), and the "Jump past the catch block" after such a step.
// Removing code no token reaches cannot change a run.
func dce(bp *blueprint.Blueprint) {
	compact(bp, reachable(bp))
}
