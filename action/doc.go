// Package action holds the actions a workflow's Action nodes run: the
// registry that maps names to actions, the typed parameter schemas the
// compiler checks params against before anything runs, and the built-in
// actions (noop, log, set, sleep, fail, http, http_post, shell).
//
// A param goes through two checks that share one set of rules, so a
// workflow that compiles is not refused at run time for a reason the
// compiler could have seen:
//
//   - at compile time, Schema.CheckKeys on the keys written in the YAML
//     (unknown, missing, one-of) and Field.CheckValue on each literal value
//     that is not a template;
//   - at run time, after templates are evaluated, Schema.Decode applies
//     defaults and coerces values (Integer to int, Duration to
//     time.Duration) before the action's Func sees them in Call.Params.
//
// A null value means "absent" everywhere: it takes the default, and it does
// not satisfy a required param.
//
// Outputs are canonical values (package value: nil, bool, string, int,
// float64, time.Duration, time.Time, []any, map[string]any) with whole
// numbers as int; value.Canonical produces that shape, so outputs compare
// and print the same on every store.
package action
