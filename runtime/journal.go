package runtime

import (
	"time"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/store"
)

// The journal's events that only the runtime knows of: log lines and
// output tails, retries scheduled, Waits started and fired. They travel in
// the transition (store.Transition.Events) and are appended by the store
// in the same atomic step as the records; the record events the store
// derives itself. Nothing here allocates unless a step logs, retries or
// waits.

var _ action.Journal = (*vm)(nil)

// stepRef names the step a vm is running, for the lines it logs.
type stepRef struct {
	node    string
	frame   string
	attempt int
}

// Line implements action.Journal: a step's log lines and output tails go
// into its transition's events.
func (v *vm) Line(level, stream, message string) {
	v.event(&store.Event{Type: store.EventLog, Node: v.cur.node, Frame: v.cur.frame, Attempt: v.cur.attempt,
		Level: level, Stream: stream, Message: message})
}

// event adds ev to the transition.
func (v *vm) event(ev *store.Event) { v.tr.Events = append(v.tr.Events, ev) }

// retryScheduled journals that a failed attempt's node runs again, as
// attempt, at at.
func (v *vm) retryScheduled(key store.RecordKey, attempt int, at time.Time, msg string) {
	v.event(&store.Event{Type: store.EventRetryScheduled, Node: key.Key, Frame: key.Frame, Attempt: attempt, At: at, Message: msg})
}

// waitStarted journals that a Wait fires at at.
func (v *vm) waitStarted(key store.RecordKey, at time.Time) {
	v.event(&store.Event{Type: store.EventWaitStarted, Node: key.Key, Frame: key.Frame, At: at})
}

// waitFired journals that a Wait's timer fired.
func (v *vm) waitFired(key store.RecordKey) {
	v.event(&store.Event{Type: store.EventWaitFired, Node: key.Key, Frame: key.Frame})
}
