// Package dsl turns workflow YAML into a syntax tree that keeps the source
// position of every value, so that later stages can point at the exact line
// and column of a mistake.
package dsl

import "time"

// Pos is a 1-based line and column in the workflow source. The zero Pos means
// "unknown" (for example, a value synthesized by the compiler).
type Pos struct {
	Line int
	Col  int
}

// IsValid reports whether p points into the source.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Kind of a Value.
type Kind uint8

// Value kinds. Integers and floats are kept apart so that `3` stays an
// integer all the way to the run's JSON output.
const (
	Null Kind = iota
	Bool
	Int
	Float
	String
	List
	Map
)

// String names the kind as a user would ("string", "list", ...).
func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "boolean"
	case Int:
		return "integer"
	case Float:
		return "number"
	case String:
		return "string"
	case List:
		return "list"
	case Map:
		return "map"
	}
	return "unknown"
}

// Value is a YAML value with its position. Exactly one of the typed fields is
// meaningful, chosen by Kind.
type Value struct {
	Kind  Kind
	Pos   Pos
	Bool  bool
	Int   int64
	Float float64
	Str   string
	List  []*Value
	Map   []*Field // in source order
}

// Field is one key of a mapping Value.
type Field struct {
	Key    string
	KeyPos Pos
	Value  *Value
}

// Get returns the value of key in a mapping, or nil.
func (v *Value) Get(key string) *Value {
	if v == nil || v.Kind != Map {
		return nil
	}
	for _, f := range v.Map {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}

// Go converts the value to plain Go data: nil, bool, int64, float64, string,
// []any and map[string]any.
func (v *Value) Go() any {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case Bool:
		return v.Bool
	case Int:
		return v.Int
	case Float:
		return v.Float
	case String:
		return v.Str
	case List:
		out := make([]any, len(v.List))
		for i, e := range v.List {
			out[i] = e.Go()
		}
		return out
	case Map:
		out := make(map[string]any, len(v.Map))
		for _, f := range v.Map {
			out[f.Key] = f.Value.Go()
		}
		return out
	}
	return nil
}

// Workflow is a parsed workflow file.
type Workflow struct {
	File        string
	Pos         Pos
	Name        string
	NamePos     Pos
	Version     string
	Description string
	Inputs      []*Input
	Defaults    *Defaults
	Functions   []*Function
	Nodes       []*Node
	NodesPos    Pos
	// Finally are the `finally:` nodes, run after Nodes whatever their
	// outcome; nil when absent.
	Finally    []*Node
	FinallyPos Pos
	// Output is the `output:` value (usually one `${{ }}` template); nil when absent.
	Output *Value
}

// Input declares one typed run input.
type Input struct {
	Name        string
	Pos         Pos
	Type        string // string|integer|number|boolean|list|map; "" means any
	TypePos     Pos
	Default     *Value // nil when absent
	Required    bool
	Description string
}

// Defaults are applied to every Action node that does not set the field itself.
type Defaults struct {
	Pos     Pos
	Timeout *Duration
	Retry   *Retry
	OnError string
}

// Duration is a literal Go duration ("200ms", "1m30s") with its position.
type Duration struct {
	D   time.Duration
	Src string
	Pos Pos
}

// Retry is a node's retry policy. Zero fields mean "not set".
type Retry struct {
	Pos             Pos
	MaxAttempts     int
	InitialInterval *Duration
	Backoff         float64
	MaxInterval     *Duration
	// Jitter is the fraction the wait is spread by, nil when not set.
	Jitter *float64
	// When is a bare expression over `error` and `attempt`: a failed
	// attempt is retried only when it holds; nil when not written.
	When *Value
	// Errors are the error types to retry (any other is not retried) and
	// Except those never to retry, each with its position; nil when not
	// written. Only a type listed in Errors retries `fail` and `params`.
	Errors    []string
	ErrorsPos []Pos
	Except    []string
	ExceptPos []Pos
}

// Function is a reusable sub-flow, inlined at each Call.
type Function struct {
	Name      string
	Pos       Pos
	Params    []string
	ParamsPos Pos
	Nodes     []*Node
}

// Node is one workflow node. Which fields are meaningful depends on Kind;
// the parser has already rejected fields that do not belong to the kind.
type Node struct {
	Pos     Pos // position of the node's mapping
	ID      string
	IDPos   Pos
	Kind    string
	KindPos Pos
	Name    string

	// Action
	Action    string
	ActionPos Pos
	Params    *Value // a mapping, or nil

	// Parallel
	Branches       [][]*Node
	BranchesPos    Pos
	MaxConcurrency int // 0 = no limit
	// Mode is "" (all: wait for every branch) or "first" (a race: the
	// first branch to succeed wins).
	Mode    string
	ModePos Pos

	// If
	Condition *Value // a string holding a bare expression
	Then      []*Node
	Else      []*Node
	HasElse   bool

	// Loop: exactly one of While, LoopUntil and ForEach is set. LoopUntil
	// (the `until` of a Loop) is evaluated after each iteration; the loop
	// ends when it holds.
	While         *Value
	LoopUntil     *Value
	ForEach       *Value
	As            string // "" means "item"
	Concurrency   int    // for_each: 1 by default, 0 = no limit
	Body          []*Node
	MaxIterations int // 0 means the default (10000)
	// MaxIterationsPos points at max_iterations when it was written.
	MaxIterationsPos Pos

	// Call
	Function    string
	FunctionPos Pos
	Args        *Value // a mapping, or nil

	// Switch
	Cases      []*Case
	Default    []*Node
	HasDefault bool

	// Wait: exactly one of Duration and Until is set; each is a literal or a
	// `${{ }}` template / bare expression string.
	Duration *Value
	Until    *Value

	// Graph: the nodes of a dependency graph, each run once the nodes it
	// depends on have finished.
	Graph    []*Node
	GraphPos Pos

	// Depends and TriggerRule place a node in the Graph around it: the ids
	// it waits for (each with its position) and the rule deciding whether
	// it runs once they have finished ("" means all_succeeded).
	Depends        []string
	DependsPos     []Pos
	TriggerRule    string
	TriggerRulePos Pos

	// FailFast is false when a Parallel or for_each Loop runs every branch
	// or iteration whatever the others do, and fails at the end with every
	// failure (fail_fast: false); nil when not written (true).
	FailFast *bool

	// BreakIf, on a node directly in the body of a while or until Loop,
	// ends the loop right after the node when it holds.
	BreakIf *Value

	// Common fields.
	Timeout  *Duration
	Retry    *Retry
	OnError  string // "", "fail" or "continue"
	OnErrPos Pos
	Catch    []*Node
	HasCatch bool

	// FieldPos has the position of every key written on the node, for
	// messages about a specific field ("params", "branches", ...).
	FieldPos map[string]Pos
}

// Case is one arm of a Switch.
type Case struct {
	Pos   Pos
	When  *Value // a string holding a bare expression
	Nodes []*Node
}

// Kinds is the closed set of node kinds, in documentation order.
var Kinds = []string{"Action", "Parallel", "If", "Loop", "Call", "Switch", "Wait", "Graph"}

// Trigger rules of a Graph node, in documentation order: when a node whose
// dependencies have all finished runs. A node whose rule does not hold is
// recorded skipped.
const (
	// AllSucceeded runs the node when every dependency succeeded (the
	// default).
	AllSucceeded = "all_succeeded"
	// AllDone runs the node whatever its dependencies ended with: a
	// teardown. A failure it ran after still fails the Graph.
	AllDone = "all_done"
	// AnyFailed runs the node when a dependency failed: a handler. The
	// failures it ran for are handled and do not fail the Graph.
	AnyFailed = "any_failed"
	// NoneFailedMinOneSuccess runs the node when no dependency failed and
	// at least one succeeded (the others skipped): the join after an If.
	NoneFailedMinOneSuccess = "none_failed_min_one_success"
)

// TriggerRules lists the trigger rules.
var TriggerRules = []string{AllSucceeded, AllDone, AnyFailed, NoneFailedMinOneSuccess}
