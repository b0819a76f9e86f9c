package blueprint

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files and the fuzz seed corpus")

// sample is a hand-built Blueprint of the shape the compiler emits for a
// workflow using every construct: an Action, an If, a for_each Loop, a
// Parallel, a while Loop, a catch block and a Wait.
func sample() *Blueprint {
	retry := Retry{MaxAttempts: 3, InitialInterval: 200 * time.Millisecond, Backoff: 2, MaxInterval: 10 * time.Second}
	return &Blueprint{
		Name:        "order-pipeline",
		Version:     "3",
		Description: "Fetch, enrich and ship an order",
		File:        "order.yaml",
		Inputs: []Input{
			{Name: "order_id", Type: "string", Required: true},
			{Name: "retries", Type: "integer", Default: 3, HasDefault: true},
			{Name: "ratio", Type: "number", Default: 2.5, HasDefault: true},
		},
		Nodes: []Node{
			{ID: "fetch", Kind: "Action", Action: "http", Loop: -1, Parent: -1, Pos: Pos{32, 5}},  // 0
			{ID: "big", Kind: "If", Loop: -1, Parent: -1, Pos: Pos{36, 5}},                        // 1
			{ID: "review", Kind: "Action", Action: "log", Loop: -1, Parent: 1, Pos: Pos{40, 9}},   // 2
			{ID: "fast", Kind: "Action", Action: "log", Loop: -1, Parent: 1, Pos: Pos{42, 9}},     // 3
			{ID: "lines", Kind: "Loop", Var: "line", Loop: -1, Parent: -1, Pos: Pos{43, 5}},       // 4
			{ID: "price", Kind: "Action", Action: "set", Loop: 4, Parent: 4, Pos: Pos{49, 9}},     // 5
			{ID: "fanout", Kind: "Parallel", Loop: -1, Parent: -1, Pos: Pos{50, 5}},               // 6
			{ID: "a", Kind: "Action", Action: "noop", Loop: -1, Parent: 6, Pos: Pos{53, 11}},      // 7
			{ID: "b", Kind: "Action", Action: "sleep", Loop: -1, Parent: 6, Pos: Pos{54, 11}},     // 8
			{ID: "poll", Kind: "Loop", Loop: -1, Parent: -1, Pos: Pos{55, 5}},                     // 9
			{ID: "check", Kind: "Action", Action: "http", Loop: 9, Parent: 9, Pos: Pos{58, 9}},    // 10
			{ID: "risky", Kind: "Action", Action: "shell", Loop: -1, Parent: -1, Pos: Pos{59, 5}}, // 11
			{ID: "cleanup", Kind: "Action", Action: "log", Loop: -1, Parent: -1, Pos: Pos{62, 9}}, // 12
			{ID: "pause", Kind: "Wait", Loop: -1, Parent: -1, Pos: Pos{63, 5}},                    // 13
		},
		Exprs: []Expr{
			{Src: `{total: sum(map(nodes.lines.output, #.cost)), fetched: nodes.fetch.output.status}`,
				Refs: []Ref{{Name: "lines", Node: 4}, {Name: "fetch", Node: 0}}, Pos: Pos{64, 9}}, // 0
			{Src: `{"method": "GET", "url": "https://api.example.com/orders/" + string(input.order_id)}`,
				Vars: []Var{{Name: "input", Kind: VarInput, Node: -1}}, Pos: Pos{34, 13},
				Spans: []Span{{From: 26, Pos: Pos{34, 35}}}}, // 1
			{Src: `nodes.fetch.output.body.total > 1000`, Refs: []Ref{{Name: "fetch", Node: 0}}, Pos: Pos{38, 16}}, // 2
			{Src: `{"msg": "ops: \"big\" order"}`, Const: true,
				Value: map[string]any{"msg": `ops: "big" order`, "n": 1, "tags": []any{"x", 2.5, true, nil}}, Pos: Pos{40, 50}}, // 3
			{Src: `nodes.fetch.output.body.lines`, Refs: []Ref{{Name: "fetch", Node: 0}}, Pos: Pos{45, 15}}, // 4
			{Src: `{"sku": line.sku, "cost": line.qty * line.unit}`,
				Vars: []Var{{Name: "line", Kind: VarItem, Node: 4}}, Pos: Pos{49, 60}}, // 5
			{Src: `iteration < 3 && nodes.check.output.status != 200`,
				Refs: []Ref{{Name: "check", Node: 10}}, Vars: []Var{{Name: "iteration", Kind: VarIteration, Node: 9}}, Pos: Pos{56, 12}}, // 6
			{Src: `"10ms"`, Const: true, Value: "10ms", Pos: Pos{63, 30}}, // 7
		},
		Code: []Instr{
			{Op: OpTask, Node: 0, Expr: -1, Steps: []Step{{Node: 0, Action: "http", Params: 1, Timeout: 30 * time.Second, Retry: retry, Catch: -1}}}, // 0
			{Op: OpEnter, Node: 1, Expr: -1},            // 1
			{Op: OpBranch, Node: 1, Expr: 2, Target: 5}, // 2
			{Op: OpTask, Node: 2, Expr: -1, Steps: []Step{{Node: 2, Action: "log", Params: 3, Catch: -1}}},                    // 3
			{Op: OpJump, Node: 1, Expr: -1, Target: 6},                                                                        // 4
			{Op: OpTask, Node: 3, Expr: -1, Steps: []Step{{Node: 3, Action: "log", Params: -1, Catch: -1}}},                   // 5
			{Op: OpLeave, Node: 1, Expr: -1},                                                                                  // 6
			{Op: OpMap, Node: 4, Expr: 4, Target: 10, Concurrency: 8, Max: 10000},                                             // 7
			{Op: OpTask, Node: 5, Expr: -1, Steps: []Step{{Node: 5, Action: "set", Params: 5, Catch: -1}}},                    // 8
			{Op: OpJoin, Node: 4, Expr: -1},                                                                                   // 9
			{Op: OpFork, Node: 6, Expr: -1, Targets: []int32{11, 13}, Target: 15},                                             // 10
			{Op: OpTask, Node: 7, Expr: -1, Steps: []Step{{Node: 7, Action: "noop", Params: -1, Catch: -1}}},                  // 11
			{Op: OpJoin, Node: 6, Expr: -1},                                                                                   // 12
			{Op: OpTask, Node: 8, Expr: -1, Steps: []Step{{Node: 8, Action: "sleep", Params: -1, Continue: true, Catch: -1}}}, // 13
			{Op: OpJoin, Node: 6, Expr: -1},                                                                                   // 14
			{Op: OpEnter, Node: 9, Expr: -1},                                                                                  // 15
			{Op: OpWhile, Node: 9, Expr: 6, Target: 19, Max: 10000},                                                           // 16
			{Op: OpTask, Node: 10, Expr: -1, Steps: []Step{{Node: 10, Action: "http", Params: -1, Catch: -1}}},                // 17
			{Op: OpNext, Node: 9, Expr: -1, Target: 16},                                                                       // 18
			{Op: OpTask, Node: 11, Expr: -1, Steps: []Step{{Node: 11, Action: "shell", Params: -1, Catch: 21}}},               // 19
			{Op: OpJump, Node: 11, Expr: -1, Target: 23},                                                                      // 20
			{Op: OpTask, Node: 12, Expr: -1, Steps: []Step{{Node: 12, Action: "log", Params: -1, Catch: -1}}},                 // 21
			{Op: OpLeave, Node: 11, Expr: -1, Failed: true},                                                                   // 22
			{Op: OpWait, Node: 13, Expr: 7},                                                                                   // 23
			{Op: OpEnd, Node: -1, Expr: -1},                                                                                   // 24
		},
		Output: 0,
	}
}

// golden compares got with testdata/NAME, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
