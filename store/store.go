// Package store defines the driver interface between Skript's runtime and the
// place where runs live: the embedded memory driver (store/memory) and the
// Redis driver (store/redis). Both pass the shared conformance suite in
// store/storetest.
//
// The runtime computes a Transition for every completed task (a pure function
// of the Blueprint, the task's result and the records it read); the driver
// applies it atomically, and only if the task's token is still where the task
// said it was. That fence makes a duplicate or late completion a no-op, so
// delivery can be at least once while transitions are exactly once.
package store

import (
	"context"
	"errors"
	"time"
)

// Status of a run or of a node record.
type Status string

// Statuses.
const (
	Pending   Status = "pending"
	Running   Status = "running"
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	Cancelled Status = "cancelled"
	// Skipped is a node record's status when the node did not run: the
	// If or Switch arm holding it was not taken, or its Graph trigger rule
	// did not hold. A run is never skipped.
	Skipped Status = "skipped"
)

// Done reports whether the status is final.
func (s Status) Done() bool { return s == Succeeded || s == Failed || s == Cancelled || s == Skipped }

// ErrNotFound is returned for an unknown run or Blueprint.
var ErrNotFound = errors.New("not found")

// ErrorInfo is the error of a failed run or node. Type is what retry and
// catch filters match ("http.status", "timeout", the fail action's type;
// see action.ErrorTypes), and Data what the failure knows (an HTTP status
// and body, an exit code and output tails). Data crosses into a store
// through the canonical codec (see errorinfo.go), so an integer reads back
// as an integer on every driver.
type ErrorInfo struct {
	Node    string         `json:"node"`
	Type    string         `json:"type,omitempty"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

// Run is a run's header.
type Run struct {
	ID       string         `json:"id"`
	Workflow string         `json:"workflow"`
	Version  string         `json:"version,omitempty"`
	Hash     string         `json:"hash"` // Blueprint hash
	Inputs   map[string]any `json:"inputs"`
	Status   Status         `json:"status"`
	Output   any            `json:"output,omitempty"`
	Error    *ErrorInfo     `json:"error,omitempty"`
	Created  time.Time      `json:"created"`
	Ended    time.Time      `json:"ended,omitempty"`
	// RetryOf is the run this one retries (skript retry).
	RetryOf string `json:"retry_of,omitempty"`
	// Parent is the run that started this one as a child workflow.
	Parent string `json:"parent,omitempty"`
	// Key is the idempotency key the run was submitted with: CreateRun
	// refuses a second run with the same key (ErrRunExists).
	Key string `json:"idempotency_key,omitempty"`
	// Trace is the W3C traceparent of whoever started the run.
	Trace string `json:"trace,omitempty"`
	// Finally is the task that starts the run's finally nodes (a Resume
	// of token FinallyToken), set by CreateRun for a workflow that has
	// them. Such a run's first end finishes it instead (see Finishing).
	Finally *Task `json:"finally,omitempty"`
	// Finishing is the end the run came to before its finally nodes ran:
	// set when it started finishing, and kept once it has ended. A run
	// that is finishing is still running.
	Finishing *RunEnd `json:"finishing,omitempty"`
}

// RecordKey names a record: a node (or an internal key such as "loop#item")
// in a frame ("" is the top level, "each[3]" an iteration).
type RecordKey struct {
	Frame string `json:"frame"`
	Key   string `json:"key"`
}

// Record is what a run knows of one node in one frame.
type Record struct {
	RecordKey
	Status   Status     `json:"status"`
	Output   any        `json:"output,omitempty"`
	Error    *ErrorInfo `json:"error,omitempty"`
	Attempts int        `json:"attempts,omitempty"`
	// Started is kept from the stored record when a later update leaves it
	// zero, so a composite node keeps the time it was entered.
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	// Reused marks a record a retry copied from the run it retries: the
	// node is not run again, and its output, attempts and times are the
	// earlier run's.
	Reused bool `json:"reused,omitempty"`
}

// TaskKind says what a worker does with a task.
type TaskKind uint8

// Task kinds.
const (
	// Exec runs the Task instruction at PC from step Step.
	Exec TaskKind = iota + 1
	// Resume advances the token inline from PC (after a Fork or Map
	// completed, or for a child token started late by a bounded group).
	Resume
	// Timer fires the Wait instruction at PC.
	Timer
)

// Task is one queue entry: a token at a pc, ready to run (or to run at At).
type Task struct {
	Run     string   `json:"r"`
	Hash    string   `json:"h"`
	Kind    TaskKind `json:"k"`
	Token   string   `json:"t"`
	Seq     uint32   `json:"s"`
	PC      int32    `json:"p"`
	Step    int32    `json:"st,omitempty"`
	Attempt int32    `json:"a,omitempty"`
	Frame   string   `json:"f,omitempty"`
	Group   string   `json:"g,omitempty"`
	Slot    int32    `json:"sl,omitempty"`
	// Last, on a Resume, names the record whose output becomes the token's
	// last value (a parent resuming after its Fork or Map).
	Last *RecordKey `json:"l,omitempty"`
	// At delays the task until then (retry backoff, Wait); zero means now.
	At time.Time `json:"at,omitzero"`
	// Enqueued is when the task became ready, for scheduling-latency figures.
	Enqueued time.Time `json:"e,omitzero"`
	// Trace is the W3C traceparent of the run's span, the parent of the
	// spans of the task's steps (see package telemetry). Tasks a driver
	// builds itself may leave it empty: the run's header has the trace.
	Trace string `json:"tc,omitempty"`
	// Lease is the driver's handle for the leased entry (set by Lease).
	Lease string `json:"-"`
	// Worker is the consumer that leased the task (set by Lease), which
	// the journal names on the events of its steps.
	Worker string `json:"-"`
	// Partition is the queue partition the task was leased from (set by
	// Lease; 0 on a driver with one queue), for traces.
	Partition int32 `json:"-"`
	// Deliveries is how many times the driver has handed this queue entry
	// to a worker, this lease included (set by Lease; 0 when the driver does
	// not count). It is not part of the task's JSON: the count belongs to the
	// entry (on Redis, the consumer group's delivery counter), so a new
	// entry for the same token, such as a retry, starts again at 1.
	Deliveries int32 `json:"-"`
	// MaxDeliveries is the driver's limit on Deliveries (set by Lease; 0 for
	// none). An Exec task delivered more often than that was being run
	// each time a worker stopped without finishing it, so the runtime fails
	// it rather than run its action once more (a poison task would
	// otherwise take down every worker in turn, forever).
	MaxDeliveries int32 `json:"-"`
}

// TokenSet says a token now exists at a sequence number. The sequence of a
// token grows with every transition it takes; tasks carry the sequence they
// were created for, and a completion whose token has moved on is stale.
type TokenSet struct {
	ID  string `json:"id"`
	Seq uint32 `json:"seq"`
}

// Group is a set of child tokens started by a Fork or a Map. The parent token
// waits; when every child has arrived, the driver records the list of their
// values at Result and enqueues Parent.
type Group struct {
	ID    string `json:"id"`
	Total int    `json:"total"`
	// Started is how many children (slots 0..Started-1) the transition
	// itself starts; the driver starts the rest, one per arrival, as
	// Resume tasks built from ChildPCs/BodyPC.
	Started int `json:"started"`
	// ChildPCs are the entry pcs of a Fork's children, by slot.
	ChildPCs []int32 `json:"child_pcs,omitempty"`
	// BodyPC is the entry pc of a Map's children, which run in frame
	// FrameBase + "[" + slot + "]" (a Fork's run in Frame).
	BodyPC    int32  `json:"body_pc,omitempty"`
	Frame     string `json:"frame,omitempty"`
	FrameBase string `json:"frame_base,omitempty"`
	// Result is where the list of the children's values is recorded.
	Result RecordKey `json:"result"`
	// Parent is the task that resumes the waiting parent token.
	Parent *Task `json:"parent"`
}

// Arrival hands a child token's value to its group.
type Arrival struct {
	Group string `json:"group"`
	Slot  int32  `json:"slot"`
	Value any    `json:"value"`
}

// RunEnd ends a run.
type RunEnd struct {
	Status Status     `json:"status"`
	Output any        `json:"output,omitempty"`
	Error  *ErrorInfo `json:"error,omitempty"`
}

// Transition is everything one completed task changes, applied atomically.
// A driver applies it in this order: check the fence; write Records (a
// zero Started keeps the stored one); set Tokens; delete Drop; enqueue Tasks;
// create Groups; apply Arrivals (each arrival stores its value in its slot;
// while children are left to start, it starts the next one; the arrival
// that completes a group records the group's list at Result, with Status
// succeeded, and enqueues the group's Parent); finally, with End set, end
// the run: set its status, output and error, delete its tokens, mark its
// running records cancelled, and drop its queued tasks when they are leased.
type Transition struct {
	// Token and Seq fence the transition: it applies only if the token still
	// exists at Seq. CreateRun ignores them.
	Token string `json:"token"`
	Seq   uint32 `json:"seq"`

	Records []*Record  `json:"records,omitempty"`
	Tokens  []TokenSet `json:"tokens,omitempty"`
	Drop    []string   `json:"drop,omitempty"`
	// Tasks are enqueued (delayed when At is set).
	Tasks    []*Task    `json:"tasks,omitempty"`
	Groups   []*Group   `json:"groups,omitempty"`
	Arrivals []*Arrival `json:"arrivals,omitempty"`
	End      *RunEnd    `json:"end,omitempty"`
	// Stop names tokens whose running actions are to stop, with those of
	// the tokens they started (a race's losing branches): once the
	// transition is applied, the driver puts a StopNotice for each on the
	// Ended feed. Their queued work is stale already (the transition
	// drops the tokens).
	Stop []string `json:"stop,omitempty"`
	// Events are journal events the runtime adds to the ones the driver
	// derives from the transition's records (log lines, retries
	// scheduled, waits): the driver appends them, with their Seq and
	// Time set, in the same atomic step, before the record events.
	Events []*Event `json:"events,omitempty"`
}

// Completion pairs a leased task with the transition its result produced. A
// nil Transition only acknowledges the task (for example, a task of a run
// that has already ended).
type Completion struct {
	Task       *Task
	Transition *Transition
}

// Capabilities say what a driver is, for callers that adapt to it.
type Capabilities struct {
	// Finishing: the driver finishes a run whose header has a Finally
	// task (see Transition) rather than end it. The runtime refuses to
	// start a workflow with finally nodes on a driver without it.
	Finishing bool
	// Local: the driver keeps runs in this process, so its reads return
	// without waiting on a network or a disk and a worker may read records
	// on the goroutines it keeps for short tasks.
	Local bool
	// Shared: other processes reach the same runs (a CLI command can look
	// up a run another process started).
	Shared bool
	// LeaseDuration is how long a leased task stays leased without an
	// Extend (0: leases never run out). A worker beats at a third of it,
	// so a long task keeps its lease whatever the driver's setting.
	LeaseDuration time.Duration
	// Retention is how long ended runs are kept (0: forever).
	Retention time.Duration
}

// Blueprints stores compiled Blueprints by hash.
type Blueprints interface {
	// PutBlueprint stores a serialized Blueprint under its hash (idempotent).
	PutBlueprint(ctx context.Context, hash string, data []byte) error
	// GetBlueprint returns a stored Blueprint or ErrNotFound.
	GetBlueprint(ctx context.Context, hash string) ([]byte, error)
}

// Runs stores runs: their headers and their records.
type Runs interface {
	// CreateRun stores a new run with its first transition (the root token
	// advanced to its first tasks). The run starts as running.
	CreateRun(ctx context.Context, run *Run, first *Transition) error
	// GetRun returns a run's header or ErrNotFound.
	GetRun(ctx context.Context, id string) (*Run, error)
	// Records returns the records for keys, nil where absent.
	Records(ctx context.Context, run string, keys []RecordKey) ([]*Record, error)
	// AllRecords returns every record of a run (for status and output).
	AllRecords(ctx context.Context, run string) ([]*Record, error)
	// WaitRun blocks until the run has ended (or ctx is done) and returns it.
	WaitRun(ctx context.Context, id string) (*Run, error)
	// Cancel ends a running run as cancelled; a no-op for an ended run.
	Cancel(ctx context.Context, id string, reason string) error
}

// Queue hands tasks to workers and applies their transitions.
type Queue interface {
	// Lease takes up to max ready tasks, waiting up to wait for the first.
	// It returns an empty slice (not an error) when none came in time.
	Lease(ctx context.Context, consumer string, max int, wait time.Duration) ([]*Task, error)
	// Complete acknowledges leased tasks and applies their transitions, in
	// order. applied[i] is false when the i-th transition was stale (its
	// token had moved on or the run had ended) and so changed nothing.
	// Once it returns, the driver keeps nothing of the Transition values
	// and their slices (the runtime reuses them); it may keep what they
	// point to: records, tasks, groups and arrival values.
	Complete(ctx context.Context, done []Completion) (applied []bool, err error)
	// StartStep records that a worker starts running a blocking step of a
	// leased Exec task, as the task's completion would record it had it
	// ended there: recs are the running record of that step, after the
	// final records of the task's steps that ran before it. They are
	// written only if the task's token is still at task.Seq and the run
	// is running (the fence of Complete), so a late or duplicate delivery
	// cannot overwrite a finished record; a zero Started keeps the stored
	// one. A running record written here is marked cancelled when the run
	// ends, like one a transition wrote, and the task's completion
	// overwrites it. applied is false when the fence did not hold or the
	// run is unknown: the task's completion would be stale as well.
	StartStep(ctx context.Context, task *Task, recs []*Record) (applied bool, err error)
	// Extend keeps the leases of long-running tasks alive.
	Extend(ctx context.Context, tasks []*Task) error
	// Release hands leased tasks back to the queue without running them
	// (a worker shutting down).
	Release(ctx context.Context, tasks []*Task) error
	// Ended delivers the ids of runs that end from now on, so workers can
	// cancel the actions they are running for them, and the
	// FinishingNotice of runs that start finishing and the StopNotice of
	// tokens that transitions stop (read them with ParseNotice). The channel is closed when ctx is done.
	Ended(ctx context.Context) <-chan string
	QueueStats
}

// Store is a run store driver. Every method is safe for concurrent use.
type Store interface {
	Blueprints
	Runs
	Queue
	Journal
	RunIndex
	// Capabilities says what the driver is.
	Capabilities() Capabilities
	// Close releases the driver's resources.
	Close() error
}
