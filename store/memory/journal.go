package memory

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/skript-dev/skript/store"
)

var _ store.Journal = (*Store)(nil)

// WithJournalLimits bounds every run's journal (the store package's
// defaults unless given).
func WithJournalLimits(l store.JournalLimits) Option {
	return func(s *Store) { s.limits = l.Resolved() }
}

// defaultEventsPage is how many events Events returns when max is 0.
const defaultEventsPage = 1000

// journal is a run's events; the run's mu guards it.
type journal struct {
	// events are kept as values: one allocation grows the journal by many
	// events, where a pointer each would cost one per step.
	events []store.Event
	// cut is set once the truncated event is in.
	cut bool
	// wake, made by a reader that waits, is closed by the next append.
	wake chan struct{}
}

// emit appends ev to r's journal, numbering and timing it; the caller
// holds r.mu and calls r.notify once its writes are done.
func (s *Store) emit(r *run, ev *store.Event, now time.Time) {
	j := &r.journal
	if n := len(j.events); n > 0 && now.Before(j.events[n-1].Time) {
		// Completions take their time before they take the run's lock.
		now = j.events[n-1].Time
	}
	if ev.Type != store.EventRunEnded && ev.Type != store.EventRunCancelled && len(j.events) >= s.limits.MaxEvents {
		if j.cut {
			return
		}
		j.cut = true
		ev = &store.Event{Type: store.EventTruncated,
			Message: "the journal keeps " + strconv.Itoa(s.limits.MaxEvents) + " events: the run's later events up to its end are left out"}
	}
	j.events = append(j.events, *ev)
	e := &j.events[len(j.events)-1]
	e.Seq = int64(len(j.events))
	e.Time = now
}

// emitRecord journals the write of rec, as stored.
func (s *Store) emitRecord(r *run, rec *store.Record, worker string, now time.Time) {
	if r.journal.cut {
		return
	}
	ev := store.Event{Type: store.RecordEventType(rec), Node: rec.Key, Frame: rec.Frame, Attempt: rec.Attempts, Worker: worker, Record: rec}
	if out, cut := store.LimitValue(rec.Output, s.limits.MaxValueBytes); cut {
		cp := *rec
		cp.Output = out
		ev.Record, ev.Truncated = &cp, true
	}
	s.emit(r, &ev, now)
}

// emitEvents journals a transition's own events.
func (s *Store) emitEvents(r *run, evs []*store.Event, worker string, now time.Time) {
	for _, in := range evs {
		if r.journal.cut {
			return
		}
		ev := *in
		if ev.Worker == "" {
			ev.Worker = worker
		}
		var cut bool
		if ev.Message, cut = store.LimitString(ev.Message, s.limits.MaxValueBytes); cut {
			ev.Truncated = true
		}
		if ev.Record != nil {
			if out, cut := store.LimitValue(ev.Record.Output, s.limits.MaxValueBytes); cut {
				cp := *ev.Record
				cp.Output = out
				ev.Record, ev.Truncated = &cp, true
			}
		}
		s.emit(r, &ev, now)
	}
}

// emitCreated journals a run's header as created.
func (s *Store) emitCreated(r *run, now time.Time) {
	h := r.hdr
	ev := store.Event{Type: store.EventRunCreated, Run: &h}
	for k, v := range h.Inputs {
		if out, cut := store.LimitValue(v, s.limits.MaxValueBytes); cut {
			if !ev.Truncated {
				h.Inputs = maps.Clone(h.Inputs)
				ev.Truncated = true
			}
			h.Inputs[k] = out
		}
	}
	s.emit(r, &ev, now)
}

// emitEnd journals a run's end: the records it cancelled, then the end.
func (s *Store) emitEnd(r *run, cancelled []*store.Record, e *store.RunEnd, typ store.EventType, now time.Time) {
	slices.SortFunc(cancelled, func(a, b *store.Record) int {
		if c := cmp.Compare(a.Frame, b.Frame); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	for _, rec := range cancelled {
		s.emitRecord(r, rec, "", now)
	}
	end := *e
	ev := store.Event{Type: typ, End: &end}
	var cut bool
	if end.Output, cut = store.LimitValue(end.Output, s.limits.MaxValueBytes); cut {
		ev.Truncated = true
	}
	s.emit(r, &ev, now)
}

// notify wakes the readers waiting on r's journal; the caller holds r.mu.
func (r *run) notify() {
	if r.journal.wake != nil {
		close(r.journal.wake)
		r.journal.wake = nil
	}
}

// Events implements store.Journal: a reader with nothing to read waits on
// a channel the next append closes.
func (s *Store) Events(ctx context.Context, id string, after int64, limit int, wait time.Duration) ([]*store.Event, error) {
	r, err := s.run(id)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = defaultEventsPage
	}
	after = max(after, 0)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	deadline := time.Now().Add(wait)
	for {
		r.mu.Lock()
		if n := int64(len(r.journal.events)); n > after {
			end := min(n, after+int64(limit))
			out := make([]*store.Event, 0, end-after)
			evs := make([]store.Event, end-after)
			copy(evs, r.journal.events[after:end])
			r.mu.Unlock()
			for i := range evs {
				out = append(out, &evs[i])
			}
			return out, nil
		}
		left := time.Until(deadline)
		if r.ended || left <= 0 {
			r.mu.Unlock()
			return []*store.Event{}, nil
		}
		if r.journal.wake == nil {
			r.journal.wake = make(chan struct{})
		}
		wake := r.journal.wake
		r.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(left)
		} else {
			timer.Reset(left)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wake:
		case <-timer.C:
		}
	}
}
