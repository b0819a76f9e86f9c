// Package blueprint defines Skript's intermediate representation: a flat,
// read-only program that the compiler emits and the runtime executes.
//
// A Blueprint is an arena of instructions addressed by index (pc). Structured
// workflow constructs (Parallel, If, Loop, Switch, Call) no longer exist here;
// they have been lowered to a handful of primitive instructions. Instructions
// refer to node metadata and expressions by index into side tables, so the hot
// path of the runtime touches only small fixed-size structs.
//
// Execution model (shared by compiler, runtime and stores):
//
//   - A token is a thread of control at a pc, in a frame. The frame names the
//     loop iteration the token runs in: "" at the top level, "lines[3]" in the
//     fourth iteration of loop node "lines", "lines[3]/retry[0]" when nested.
//     Node records are keyed by (frame, node id).
//   - Each token also keeps a "last" value: the output of the last node it
//     completed. Composite nodes take their output from it (the last output of
//     a branch, of a loop iteration, of a function).
//   - Task and Wait are the only instructions that leave the VM; all others
//     run inline.
package blueprint

import (
	"fmt"
	"strconv"
	"time"

	"github.com/skript-dev/skript/internal/backoff"
)

// Version of the serialized form; bump on incompatible changes.
const Version = 1

// Pos is a 1-based line and column in the workflow source.
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

// Blueprint is a compiled workflow. It is never mutated after Compile.
type Blueprint struct {
	Name        string  `json:"name"`
	Version     string  `json:"version,omitempty"`
	Description string  `json:"description,omitempty"`
	File        string  `json:"file,omitempty"`
	Inputs      []Input `json:"inputs,omitempty"`
	// Nodes is the node table: every workflow node that can appear in a run
	// record, after inlining (Call'd nodes are named CALLID.INNERID).
	Nodes []Node `json:"nodes"`
	// Exprs is the expression table; instructions and steps refer to it by index.
	Exprs []Expr `json:"exprs"`
	// Code is the instruction arena; execution starts at pc 0.
	Code []Instr `json:"code"`
	// Output is the index of the workflow's `output:` expression, or -1 when
	// the run's output is the last output of the top-level sequence.
	Output int32 `json:"output"`
	// Finally is the entry pc of the workflow's finally nodes, 0 when it
	// has none (pc 0 always starts the top level). A run of such a
	// Blueprint is created with a Finally task for it (see store.Run).
	Finally int32 `json:"finally,omitempty"`
	// Hash is the hex SHA-256 of the serialized form with Hash empty. Stores
	// keep Blueprints by it.
	Hash string `json:"hash,omitempty"`
}

// Input is a declared run input.
type Input struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"` // "" means any
	Required    bool   `json:"required,omitempty"`
	Default     any    `json:"default,omitempty"`
	HasDefault  bool   `json:"has_default,omitempty"`
	Description string `json:"description,omitempty"`
}

// Node is the metadata of one workflow node.
type Node struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // Action, Parallel, If, Loop, Call, Switch, Wait
	Name string `json:"name,omitempty"`
	// Action is the action name for Action nodes.
	Action string `json:"action,omitempty"`
	// Loop is the index of the innermost Loop node whose body contains this
	// node, or -1. It tells the runtime which prefix of a token's frame holds
	// this node's record.
	Loop int32 `json:"loop"`
	// Parent is the index of the innermost composite node (Parallel, If,
	// Loop, Switch, Call) whose body contains this node, or -1. A node in
	// an Action's catch block has the Action's parent: the Action has
	// already failed. When a node fails its run, the runtime records
	// this chain of nodes as failed too (the others still running are
	// cancelled). A serialized Blueprint without the field reads as -1.
	Parent int32 `json:"parent"`
	// Var is, for Loop nodes, the name the current element is bound to
	// (for_each `as`, default "item"); empty for while loops.
	Var string `json:"var,omitempty"`
	// Trap marks a Parallel or for_each Loop with fail_fast: false: a node
	// inside it that fails, unhandled, ends its token's branch or iteration
	// with the failure as the value it hands to its group (FailureKey),
	// instead of failing the run; a Collect after each group in the trap
	// gathers them.
	Trap bool `json:"trap,omitempty"`
	Pos  Pos  `json:"pos"`
}

// Expr is one expr-lang expression. A template string ("a ${{ x }} b") and a
// params map are compiled into one expression each, so evaluating a step's
// params is a single VM run.
type Expr struct {
	// Src is expr-lang source text, ready for expr.Compile.
	Src string `json:"src"`
	// Const, when set, means the compiler already evaluated the expression;
	// Value holds the result and Src is kept for display only.
	Const bool `json:"const,omitempty"`
	Value any  `json:"value,omitempty"`
	// Refs are the node records the expression reads, as `nodes.NAME`; the
	// runtime puts exactly these into the `nodes` variable.
	Refs []Ref `json:"refs,omitempty"`
	// Vars are the other names the expression reads; each is resolved by the
	// runtime as its Kind says.
	Vars []Var `json:"vars,omitempty"`
	Pos  Pos   `json:"pos"`
	// Spans position the templates of an expression built from several
	// YAML values (a params or args map, a list, a string with more than
	// one template), so that a run-time error names the template that
	// failed rather than the whole map. Empty when Pos says it all.
	Spans []Span `json:"spans,omitempty"`
}

// Span says where in the workflow source one part of an expression's Src
// was written. Spans are sorted by From; a part runs from its From to the
// next span's. Source text before the first span (a map's braces, its
// literal values) has the expression's own Pos.
type Span struct {
	// From is the offset in runes of the part in Src, as expr-lang counts
	// the locations of its errors.
	From int `json:"from"`
	Pos  Pos `json:"pos"`
}

// PosAt returns the position of rune offset off of Src: the position of
// the span it lies in, or Pos.
func (e *Expr) PosAt(off int) Pos {
	// Spans are few (one per template of one node's params): a scan from
	// the end finds the last span that starts at or before off.
	for i := len(e.Spans) - 1; i >= 0; i-- {
		if e.Spans[i].From <= off {
			return e.Spans[i].Pos
		}
	}
	return e.Pos
}

// Ref binds the name a user wrote after `nodes.` to a node of the table.
// Inside a function body NAME is the local id; Node is the inlined node.
type Ref struct {
	Name string `json:"name"`
	Node int32  `json:"node"`
	// Prev reads the record of the previous iteration of the while or
	// until loop whose body holds the node (none in the first: null): a
	// loop's condition, evaluated at the head of an iteration, reads the
	// iteration before.
	Prev bool `json:"prev,omitempty"`
}

// VarKind says where a variable's value comes from.
type VarKind uint8

// Variable kinds.
const (
	VarInput     VarKind = iota + 1 // `input`: the run's inputs
	VarRun                          // `run`: {id, workflow}
	VarItem                         // a for_each element; Node is the Loop node
	VarIndex                        // `index` of the Loop node's current iteration
	VarIteration                    // `iteration` of the while Loop node
	VarParams                       // `params` of a function call; Node is the Call node
	VarError                        // `error` in a catch block; Node is the failed node
	VarPrevious                     // `previous`: the last output of the while/until Loop Node's previous iteration
	VarAttempt                      // `attempt` in a retry condition: the number of the attempt that failed
)

// Var binds a free name of an expression.
type Var struct {
	Name string  `json:"name"`
	Kind VarKind `json:"kind"`
	Node int32   `json:"node"`
	// Prev, on an iteration, is the index of the iteration before (an
	// until condition, evaluated at the next iteration's head, names the
	// iteration that has just ended).
	Prev bool `json:"prev,omitempty"`
}

// Op is an instruction opcode.
type Op uint8

// Opcodes. Only Task and Wait leave the VM; the others run inline.
const (
	OpNop Op = iota
	// OpTask runs Steps back to back on a worker (node fusion puts several
	// Actions in one Task), then continues at pc+1 with last = the last
	// step's output. A step that fails with attempts left is retried after a
	// backoff starting at that step (earlier steps are not run again).
	OpTask
	// OpFork starts one child token per entry of Targets, in the same frame,
	// at most Concurrency at once (0 = all). The forking token waits; when
	// every child has reached its Join, the Node record gets the list of the
	// children's last values (ordered by branch), and the forking token
	// resumes at Target with last = that list.
	OpFork
	// OpJoin ends a child token of a Fork or Map: its last value is handed to
	// the group it belongs to. Exactly one arrival completes the group.
	OpJoin
	// OpJump continues at Target.
	OpJump
	// OpBranch evaluates Expr; false continues at Target, true at pc+1.
	OpBranch
	// OpMap evaluates Expr to a list and starts one child token per element
	// at pc+1 in frame "NODE[i]" (item and index in scope), at most
	// Concurrency at once (0 = all). More than Max elements fails the node.
	// An empty list records [] and continues at Target. Otherwise the token
	// waits and resumes at Target with last = the list of each iteration's
	// last value, which is also the Node record's output.
	OpMap
	// OpWait is a durable timer: Expr gives a duration (Until false) or an
	// RFC 3339 time (Until true). The token resumes at pc+1 when it fires.
	OpWait
	// OpEnter marks the start of a composite node (If, Switch, Call, while
	// Loop): the Node record becomes running and last is reset to null, so a
	// branch that runs nothing yields null. For a Call, Expr (when >= 0)
	// builds the args map, stored as the call's `params` for its body.
	OpEnter
	// OpLeave records the composite Node as finished with output = last
	// (or [last] when Wrap is set: a one-branch Parallel lowered to a plain
	// sequence keeps its list output). Status is "succeeded", or "failed"
	// (Failed set) when it closes the catch block of a failed Action, whose
	// error stays on the record.
	OpLeave
	// OpWhile is the head of a while loop over Node. On first entry
	// (the token's frame is not inside Node) it pushes frame "NODE[0]". Then
	// it evaluates Expr with `iteration` in scope: false pops the frame,
	// records the Node's output (the list of iteration values) and continues
	// at Target with last = that list; true with iteration >= Max fails the
	// node; otherwise it continues at pc+1. With Until set (an until loop)
	// the first iteration runs without a test, and Expr, which reads the
	// iteration just ended (Ref.Prev), ends the loop when it holds.
	OpWhile
	// OpNext ends one while-loop iteration: it stores last as the iteration's
	// value and moves the token's frame to the next iteration, then
	// continues at Target (the OpWhile head).
	OpNext
	// OpEnd ends the top-level token: the run succeeds with the value of the
	// Blueprint's Output expression, or with last.
	OpEnd
	// OpGraph starts a dependency graph over Node: one child token per
	// entry of Targets (the graph's nodes, by slot), in the same frame, as
	// a Fork does, except that slot i starts only once Needs[i] nodes it
	// depends on have signalled it (OpSignal); the slots that need nothing
	// start at once. The forking token resumes at Target when every child
	// has reached its Join, with last = the list of their last values.
	// Each wait is a store group of its own (GraphGroup), so any DAG runs
	// every node whose dependencies allow at once, on every store.
	OpGraph
	// OpTrigger decides whether Node, a node of a graph, runs: Rule over
	// the statuses of the records of Deps (the nodes it depends on). When
	// the rule holds it continues at pc+1; otherwise it records Node
	// skipped and continues at Target.
	OpTrigger
	// OpSignal tells the nodes of a graph that depend on Node that it has
	// finished: one arrival per entry of Signals, at the group of the
	// dependent's slot. It continues at pc+1.
	OpSignal
	// OpBreak ends a while or until loop over Node from inside its body:
	// last becomes the iteration's value, the frame is popped, the Node's
	// output recorded (the list of iteration values, this one included),
	// and the token continues at Target (the loop's exit) with last = that
	// list.
	OpBreak
	// OpCollect follows the resume of a Fork or Map (Node) inside a trap:
	// it looks for failures among last, the list of its children's values
	// (see Node.Trap). With none it continues at pc+1. Otherwise Node has
	// failed with the list of them: with Handle "continue" its output
	// becomes {error: {message, node, failures}} and it continues at pc+1;
	// with Handle "catch" it continues at Target, its catch block, with
	// `error` in scope; without, Node fails as an Action does.
	OpCollect
	// OpSkip records each of Deps skipped: the nodes of the arms of an If
	// or Switch (Node) that the token is not taking. It continues at pc+1.
	OpSkip
	// OpRace starts a race over Parallel Node: one child token per entry of
	// Targets, at most Concurrency at once, as a Fork does, in a group
	// (the failures' group) that the branches that fail arrive at (see
	// Node.Trap), and a second group (RaceWinGroup) of one arrival, that
	// of the first branch to succeed (Win). The forking token resumes at
	// Target (with last = [{branch, output}]) when a branch won, or at
	// Else (with last = the list of failures) when every branch failed.
	OpRace
	// OpWin ends a race's branch that succeeded: it hands {branch,
	// output} to the race's win group. Only the first arrival counts.
	OpWin
	// OpWon is where a won race resumes: Node's output becomes the
	// winner's {branch, output}, the other branches' tokens are dropped,
	// so nothing more of them runs, and the records of Deps (the nodes of
	// every branch) still running are marked cancelled.
	OpWon
	// OpCheck fails Node when the record of one of Deps is failed: in a
	// graph, a failure that no any_failed node handled fails the graph
	// once every node has finished. It continues at pc+1.
	OpCheck
)

var opNames = [...]string{"Nop", "Task", "Fork", "Join", "Jump", "Branch", "Map", "Wait", "Enter", "Leave", "While", "Next", "End",
	"Graph", "Trigger", "Signal", "Break", "Collect", "Skip", "Race", "Win", "Won", "Check"}

// String returns the opcode's name.
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "Op(?)"
}

// Instr is one instruction. Fields not used by the opcode are zero.
type Instr struct {
	Op Op `json:"op"`
	// Node is the index of the node the instruction belongs to, or -1.
	Node int32 `json:"node"`
	// Target is a pc: the jump target, the false branch, or where a
	// waiting token resumes.
	Target int32 `json:"target,omitempty"`
	// Targets are the child entry pcs of a Fork.
	Targets []int32 `json:"targets,omitempty"`
	// Expr is an index into Blueprint.Exprs, or -1.
	Expr int32 `json:"expr"`
	// Concurrency bounds Fork and Map children running at once (0 = all).
	Concurrency int `json:"concurrency,omitempty"`
	// Max bounds Map elements and While iterations; on a Won it is the
	// race's number of branches.
	Max int `json:"max,omitempty"`
	// Until marks a Wait whose Expr is a point in time, and a While that
	// tests after each iteration.
	Until bool `json:"until,omitempty"`
	// Failed marks a Leave that closes a catch block.
	Failed bool `json:"failed,omitempty"`
	// Wrap makes a Leave record [last] instead of last.
	Wrap bool `json:"wrap,omitempty"`
	// Steps are the Actions of a Task, run in order.
	Steps []Step `json:"steps,omitempty"`
	// Needs are, for a Graph, how many signals each slot waits for.
	Needs []int32 `json:"needs,omitempty"`
	// Deps are the nodes a Trigger reads, a Check checks, a Skip records.
	Deps []int32 `json:"deps,omitempty"`
	// Rule is a Trigger's rule (the DSL's trigger_rule names).
	Rule string `json:"rule,omitempty"`
	// Signals are the arrivals of a Signal.
	Signals []Signal `json:"signals,omitempty"`
	// Else is where a Race resumes when every branch failed.
	Else int32 `json:"else,omitempty"`
	// Handle is how a Collect handles failures: HandleContinue,
	// HandleCatch (at Target) or "" (the node fails).
	Handle string `json:"handle,omitempty"`
}

// Collect's handlers (Instr.Handle), as on_error and catch name them.
const (
	HandleContinue = "continue"
	HandleCatch    = "catch"
)

// FailureKey is the one key of the value a failed branch or iteration of
// a trap hands to its group: {FailureKey: {node, message}}. A '#' never
// starts a key an expression can write bare, nor one a run record shows.
const FailureKey = "#failed"

// Signal is one arrival a graph node makes when it finishes: at the group
// of slot Slot of its graph, in that group's slot At (the position of the
// signalling node among the dependencies of Slot's node).
type Signal struct {
	Slot int32 `json:"slot"`
	At   int32 `json:"at"`
}

// GraphGroup is the id of the group the slot of a graph waits on, from the
// id of the graph's own group: the runtime computes it both where the
// group is made and where a signal arrives at it.
func GraphGroup(graph string, slot int32) string {
	return graph + "~" + strconv.Itoa(int(slot))
}

// RaceWinGroup is the id of a race's win group, from the id of its
// failures' group (the group its branch tokens belong to).
func RaceWinGroup(group string) string { return group + "~win" }

// Trigger rules (Instr.Rule), as the DSL names them.
const (
	RuleAllSucceeded            = "all_succeeded"
	RuleAllDone                 = "all_done"
	RuleAnyFailed               = "any_failed"
	RuleNoneFailedMinOneSuccess = "none_failed_min_one_success"
)

// Step is one Action inside a Task.
type Step struct {
	// Node is the Action node's index.
	Node int32 `json:"node"`
	// Action is the registered action name.
	Action string `json:"action"`
	// Params is the index of the expression that builds the params map, or
	// -1 for no params.
	Params  int32         `json:"params"`
	Timeout time.Duration `json:"timeout,omitempty"`
	Retry   Retry         `json:"retry"`
	// Continue records {error: {message, node}} as the output of a failed
	// step and goes on (on_error: continue).
	Continue bool `json:"continue,omitempty"`
	// Contain marks a Continue the workflow did not ask for: a node of a
	// Graph whose failure a dependent's trigger rule runs after. Its
	// failure is not handled, so a retry runs it again.
	Contain bool `json:"contain,omitempty"`
	// Catch is the pc of the node's catch block, or -1. When the step fails
	// for good, its record is marked failed with the error, and the token
	// continues at Catch with last = null (`error` in scope); the block ends
	// with a Leave (Failed) on the node, which takes the block's last value.
	Catch int32 `json:"catch"`
}

// Retry is a step's retry policy. MaxAttempts counts the first attempt.
type Retry struct {
	MaxAttempts     int           `json:"max_attempts"`
	InitialInterval time.Duration `json:"initial_interval,omitempty"`
	Backoff         float64       `json:"backoff,omitempty"`
	MaxInterval     time.Duration `json:"max_interval,omitempty"`
	// Jitter is the fraction each wait is spread by (nil: DefaultJitter),
	// so that many steps failing together do not retry together.
	Jitter *float64 `json:"jitter,omitempty"`
	// Filter says which failures are retried; nil retries every failure
	// but those of types params and fail.
	Filter *RetryFilter `json:"filter,omitempty"`
}

// RetryFilter is a retry's `errors`, `except` and `when`. A failure is
// retried when its type is not in Except, is in Errors (if given; else is
// not params or fail), and When holds.
type RetryFilter struct {
	Errors []string `json:"errors,omitempty"`
	Except []string `json:"except,omitempty"`
	// When is the index of the condition (its vars: error, with Node the
	// retried node, and attempt), or -1.
	When int32 `json:"when"`
}

// DefaultJitter is the jitter of a retry policy that sets none: ±10%, as
// riverqueue/river spreads its retries.
const DefaultJitter = 0.1

// Delay is the wait before the given attempt (2 = the first retry):
// InitialInterval × Backoff^(attempt-2), at most MaxInterval (at most
// backoff.MaxDelay without one, so it never overflows), spread by Jitter.
func (r Retry) Delay(attempt int) time.Duration {
	d := r.InitialInterval
	if d <= 0 {
		d = 200 * time.Millisecond
	}
	b := r.Backoff
	if b < 1 {
		b = 2
	}
	j := DefaultJitter
	if r.Jitter != nil {
		j = *r.Jitter
	}
	return backoff.Delay(attempt-1, d, r.MaxInterval, b, j, nil)
}

// MarshalText writes the opcode by name, so the serialized form reads
// "Fork", not 2, and stays stable if opcodes are renumbered.
func (o Op) MarshalText() ([]byte, error) {
	if int(o) >= len(opNames) {
		return nil, fmt.Errorf("unknown opcode %d", o)
	}
	return []byte(opNames[o]), nil
}

// UnmarshalText reads an opcode name.
func (o *Op) UnmarshalText(b []byte) error {
	for i, n := range opNames {
		if n == string(b) {
			*o = Op(i)
			return nil
		}
	}
	return fmt.Errorf("unknown opcode %q", b)
}

// LoopDepth returns how many Loop nodes enclose node i: the number of
// iteration indexes in the frame of the node's records. A chain that
// leaves the node table or loops back on itself (a Blueprint that did not
// pass Validate) is cut short rather than followed forever.
func (bp *Blueprint) LoopDepth(i int) int {
	d := 0
	for l := bp.Nodes[i].Loop; l >= 0 && int(l) < len(bp.Nodes) && d <= len(bp.Nodes); l = bp.Nodes[l].Loop {
		d++
	}
	return d
}
