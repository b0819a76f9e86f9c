package store

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skript-dev/skript/value"
)

// EventType names what an Event reports.
type EventType string

// Event types. The record events (step.* and record) carry the record as
// the driver stored it; replaying them in order rebuilds a run's records
// (see Replay).
const (
	// EventRunCreated opens every journal: Run holds the header as created
	// (inputs, Blueprint hash, retry and parent links).
	EventRunCreated EventType = "run.created"
	// EventStepStarted: a record written as running (a blocking step's
	// StartStep, a composite node or a Wait entered).
	EventStepStarted EventType = "step.started"
	// EventStepSucceeded: a record written as succeeded.
	EventStepSucceeded EventType = "step.succeeded"
	// EventStepFailed: a record written as failed.
	EventStepFailed EventType = "step.failed"
	// EventStepCancelled: a record marked cancelled, by the run's end or a
	// transition.
	EventStepCancelled EventType = "step.cancelled"
	// EventStepSkipped: a record written as skipped (a node of an If or
	// Switch arm not taken, or of a Graph whose trigger rule did not hold).
	EventStepSkipped EventType = "step.skipped"
	// EventRecord: any other record write: pending records and the
	// runtime's own, whose keys hold a '#' (a loop's items, a group's
	// values).
	EventRecord EventType = "record"
	// EventRetryScheduled: a failed attempt will run again at At.
	EventRetryScheduled EventType = "retry.scheduled"
	// EventWaitStarted: a Wait will fire at At.
	EventWaitStarted EventType = "wait.started"
	// EventWaitFired: a Wait's timer fired.
	EventWaitFired EventType = "wait.fired"
	// EventLog: a `log` line (Level, Message) or a tail of a shell step's
	// output (Stream "stdout" or "stderr", Message the tail).
	EventLog EventType = "log"
	// EventRunEnded: the run ended (End holds status, output, error).
	EventRunEnded EventType = "run.ended"
	// EventRunFinishing: the run came to its end and runs its finally
	// nodes before it ends (End holds the end it came to, status,
	// output and error; see Run.Finishing). run.ended or run.cancelled
	// follows once they have run, once, at the very end.
	EventRunFinishing EventType = "run.finishing"
	// EventRunCancelled: the run was cancelled (End holds the reason).
	EventRunCancelled EventType = "run.cancelled"
	// EventTruncated: the journal reached its limit on events; no event
	// follows it but the run's end. Message says what was left out.
	EventTruncated EventType = "truncated"
)

// Event is one entry of a run's journal. Seq numbers a run's events from
// 1 without gaps; Time is when the driver appended it.
type Event struct {
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	Type EventType `json:"type"`
	// Node and Frame name the node the event is about (Node is the record
	// key on record events).
	Node  string `json:"node,omitempty"`
	Frame string `json:"frame,omitempty"`
	// Attempt of a step (from 1) or of the retry scheduled.
	Attempt int `json:"attempt,omitempty"`
	// Worker is the consumer that ran the step, when known: the leased
	// task's Worker on the events of its transition or StartStep; none on
	// run.created, nor on the records a run's end marks cancelled (the
	// task that ended the run did not run them).
	Worker string `json:"worker,omitempty"`
	// Record is the record as stored after this event (record events).
	Record *Record `json:"record,omitempty"`
	// At is when a scheduled retry or a Wait is due.
	At time.Time `json:"at,omitzero"`
	// Level, Stream and Message of a log event (Message also explains a
	// truncated event).
	Level   string `json:"level,omitempty"`
	Stream  string `json:"stream,omitempty"`
	Message string `json:"message,omitempty"`
	// Run is the header of a run.created event.
	Run *Run `json:"run,omitempty"`
	// End is the end of a run.ended or run.cancelled event.
	End *RunEnd `json:"end,omitempty"`
	// Truncated is set on an event whose value (a record's output, a log
	// message) was cut to the journal's value limit: the journal keeps a
	// marker in its place, never a silently shortened value.
	Truncated bool `json:"truncated,omitempty"`
}

// RecordEventType is the type of the event that reports writing rec.
func RecordEventType(rec *Record) EventType {
	if InternalKey(rec.Key) {
		// The runtime's own records (a loop's items, a group's values)
		// are no step of the workflow: a timeline shows them apart.
		return EventRecord
	}
	switch rec.Status {
	case Running:
		return EventStepStarted
	case Succeeded:
		return EventStepSucceeded
	case Failed:
		return EventStepFailed
	case Cancelled:
		return EventStepCancelled
	case Skipped:
		return EventStepSkipped
	}
	return EventRecord
}

// JournalLimits bound a run's journal.
type JournalLimits struct {
	// MaxEvents is the most events one run keeps (the run's end is always
	// appended after it, following one EventTruncated); 0 means
	// DefaultMaxEvents.
	MaxEvents int
	// MaxValueBytes is the largest encoded value (record output, log
	// message) an event keeps as is; a larger one is replaced by a
	// marker and the event is flagged Truncated. 0 means
	// DefaultMaxValueBytes.
	MaxValueBytes int
}

// Journal limits' defaults.
const (
	DefaultMaxEvents     = 100_000
	DefaultMaxValueBytes = 64 << 10
)

// Resolved returns l with its zero fields set to the defaults.
func (l JournalLimits) Resolved() JournalLimits {
	if l.MaxEvents <= 0 {
		l.MaxEvents = DefaultMaxEvents
	}
	if l.MaxValueBytes <= 0 {
		l.MaxValueBytes = DefaultMaxValueBytes
	}
	return l
}

// TruncatedMarker is what an event keeps in place of a value whose
// encoding took size bytes, over the journal's MaxValueBytes. Every driver
// writes the same marker, so a reader can tell a cut value on any store.
func TruncatedMarker(size int) string {
	return "[truncated: " + strconv.Itoa(size) + " bytes]"
}

// LimitValue returns v as an event keeps it under a limit of max bytes
// of its encoding (package value's codec): v itself, or TruncatedMarker
// and true when the encoding is longer. The values a run writes are
// mostly small, and those are recognized without encoding them.
func LimitValue(v any, max int) (any, bool) {
	if sizeBound(v, max) >= 0 {
		return v, false
	}
	b, err := value.Marshal(v)
	if err != nil || len(b) <= max {
		// A value the codec refuses never reached the store either.
		return v, false
	}
	return TruncatedMarker(len(b)), true
}

// LimitString is LimitValue for a text kept as is (a log message): its
// length in bytes is what counts.
func LimitString(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	return TruncatedMarker(len(s)), true
}

// sizeBound returns what is left of budget after an upper bound on the
// size of v's encoding, or a negative number when the bound is over
// budget or v is of a kind it does not know.
func sizeBound(v any, budget int) int {
	switch x := v.(type) {
	case nil, bool:
		return budget - 5
	case int, float64:
		return budget - 24
	case string:
		return budget - 2 - 6*len(x) // every byte escaped as \u00XX
	case time.Duration:
		return budget - 48
	case time.Time:
		return budget - 64
	case []any:
		budget -= 2
		for _, e := range x {
			if budget = sizeBound(e, budget-1); budget < 0 {
				return budget
			}
		}
		return budget
	case map[string]any:
		budget -= 12 // braces, and a $map tag around a tag-like map
		for k, e := range x {
			if budget = sizeBound(e, budget-4-6*len(k)); budget < 0 {
				return budget
			}
		}
		return budget
	}
	return -1
}

// Journal reads a run's events. Drivers append them in the same atomic
// step as the state change they report, so the journal and the state
// never disagree.
type Journal interface {
	// Events returns up to max of the run's events with Seq > after, in
	// order, waiting up to wait for the first when there is none yet (0
	// returns at once; an ended run's journal has nothing more to wait
	// for). max <= 0 means a driver's default page, at least 100 events.
	// It returns an empty slice, not an error, when none came in time,
	// ErrNotFound for an unknown run, and ctx's error when ctx ends first.
	Events(ctx context.Context, run string, after int64, max int, wait time.Duration) ([]*Event, error)
}

// Replay rebuilds a run's records as they were right after the event
// numbered at (every event when at <= 0) by applying the record events in
// order. It returns them sorted by frame and key.
func Replay(events []*Event, at int64) []*Record {
	recs := map[RecordKey]*Record{}
	for _, ev := range events {
		if at > 0 && ev.Seq > at {
			break
		}
		if ev.Record != nil {
			recs[ev.Record.RecordKey] = ev.Record
		}
	}
	return SortRecords(recs)
}

// SortRecords returns the records of m sorted by frame, then key: the
// order every driver's AllRecords is compared in.
func SortRecords(m map[RecordKey]*Record) []*Record {
	out := make([]*Record, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Record) int {
		if c := cmp.Compare(a.Frame, b.Frame); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out
}

// InternalKey reports whether a record key is the runtime's own (a loop's
// items, a group's values: keys holding a '#') rather than a node's.
func InternalKey(k string) bool { return strings.IndexByte(k, '#') >= 0 }
