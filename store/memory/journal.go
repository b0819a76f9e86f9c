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
	// Entries are kept small: most events report a record write, and
	// such an entry is the stored record, the worker and the time, the
	// rest of the event following from the record. Other events are kept
	// whole beside. A run's journal thus costs about as much as its
	// records, and Events builds the store.Event values as they are read.
	// They come in chunks that double in size up to maxChunk, so a
	// journal grows without copying what it holds.
	chunks [][]jentry
	n      int // entries in all chunks
	// cut is set once the truncated event is in.
	cut bool
	// wake, made by a reader that waits, is closed by the next append.
	wake chan struct{}
}

// jentry is one event: a record event (rec set) or any other (ev set).
type jentry struct {
	rec    *store.Record
	ev     *store.Event
	worker string
	nanos  int64
}

// event is the entry as the store.Event numbered seq.
func (e *jentry) event(seq int64) store.Event {
	var out store.Event
	if e.ev != nil {
		out = *e.ev
	} else {
		out = store.Event{Type: store.RecordEventType(e.rec), Node: e.rec.Key, Frame: e.rec.Frame, Attempt: e.rec.Attempts,
			Worker: e.worker, Record: e.rec}
	}
	out.Seq, out.Time = seq, time.Unix(0, e.nanos)
	return out
}

// Chunk sizes of a journal: the first, and the most any grows to.
const (
	firstChunk = 8
	maxChunk   = 2048
)

// last returns the journal's last entry, nil when it has none.
func (j *journal) last() *jentry {
	if j.n == 0 {
		return nil
	}
	c := j.chunks[len(j.chunks)-1]
	return &c[len(c)-1]
}

func (j *journal) append(e jentry) {
	k := len(j.chunks) - 1
	if k < 0 || len(j.chunks[k]) == cap(j.chunks[k]) {
		size := firstChunk
		if k >= 0 {
			size = min(2*cap(j.chunks[k]), maxChunk)
		}
		j.chunks = append(j.chunks, make([]jentry, 0, size))
		k++
	}
	j.chunks[k] = append(j.chunks[k], e)
	j.n++
}

// read returns the events numbered after+1 to end.
func (j *journal) read(after, end int) []*store.Event {
	evs := make([]store.Event, 0, end-after)
	i := 0 // the number of the chunk's first entry, less one
	for _, c := range j.chunks {
		if i+len(c) <= after {
			i += len(c)
			continue
		}
		for k := max(after-i, 0); k < len(c) && i+k < end; k++ {
			evs = append(evs, c[k].event(int64(i+k+1)))
		}
		i += len(c)
		if i >= end {
			break
		}
	}
	out := make([]*store.Event, len(evs))
	for k := range evs {
		out[k] = &evs[k]
	}
	return out
}

// add appends an entry, numbering and timing it; the caller holds r.mu and
// calls r.notify once its writes are done. An entry past the limit is
// dropped, after one truncated event, unless it ends the run.
func (s *Store) add(r *run, e jentry, now time.Time) {
	j := &r.journal
	e.nanos = now.UnixNano()
	if last := j.last(); last != nil && e.nanos < last.nanos {
		// Completions take their time before they take the run's lock.
		e.nanos = last.nanos
	}
	if j.n >= s.limits.MaxEvents && (e.ev == nil || (e.ev.Type != store.EventRunEnded && e.ev.Type != store.EventRunCancelled)) {
		if j.cut {
			return
		}
		j.cut = true
		e = jentry{nanos: e.nanos, ev: &store.Event{Type: store.EventTruncated,
			Message: "the journal keeps " + strconv.Itoa(s.limits.MaxEvents) + " events: the run's later events up to its end are left out"}}
	}
	j.append(e)
}

// emit journals an event other than a record's.
func (s *Store) emit(r *run, ev *store.Event, now time.Time) {
	s.add(r, jentry{ev: ev}, now)
}

// emitRecord journals the write of rec, as stored.
func (s *Store) emitRecord(r *run, rec *store.Record, worker string, now time.Time) {
	if r.journal.cut {
		return
	}
	if out, cut := store.LimitValue(rec.Output, s.limits.MaxValueBytes); cut {
		cp := *rec
		cp.Output = out
		s.emit(r, &store.Event{Type: store.RecordEventType(rec), Node: rec.Key, Frame: rec.Frame, Attempt: rec.Attempts,
			Worker: worker, Record: &cp, Truncated: true}, now)
		return
	}
	s.add(r, jentry{rec: rec, worker: worker}, now)
}

// emitEvents journals a transition's own events.
func (s *Store) emitEvents(r *run, evs []*store.Event, worker string, now time.Time) {
	for _, in := range evs {
		if r.journal.cut {
			return
		}
		// A copy: the transition's events are the caller's.
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
	ev := &store.Event{Type: store.EventRunCreated, Run: &h}
	for k, v := range h.Inputs {
		if out, cut := store.LimitValue(v, s.limits.MaxValueBytes); cut {
			if !ev.Truncated {
				h.Inputs = maps.Clone(h.Inputs)
				ev.Truncated = true
			}
			h.Inputs[k] = out
		}
	}
	s.emit(r, ev, now)
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
	ev := &store.Event{Type: typ, End: &end}
	var cut bool
	if end.Output, cut = store.LimitValue(end.Output, s.limits.MaxValueBytes); cut {
		ev.Truncated = true
	}
	s.emit(r, ev, now)
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
		if n := int64(r.journal.n); n > after {
			out := r.journal.read(int(after), int(min(n, after+int64(limit))))
			r.mu.Unlock()
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
