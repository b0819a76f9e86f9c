package postgres

import (
	"context"
	"maps"
	"strconv"
	"time"

	"github.com/skript-dev/skript/store"
)

var _ store.Journal = (*Store)(nil)

// defaultEventsPage is how many events Events returns when max is 0.
const defaultEventsPage = 1000

// add numbers, times and queues an event of rs; past the journal's limit
// it is dropped, after one truncated event, unless it ends the run.
func (b *batch) add(rs *runState, ev *store.Event) {
	lim := b.s.limits.MaxEvents
	if rs.events >= int64(lim) && ev.Type != store.EventRunEnded && ev.Type != store.EventRunCancelled {
		if rs.cut {
			return
		}
		rs.cut = true
		ev = &store.Event{Type: store.EventTruncated,
			Message: "the journal keeps " + strconv.Itoa(lim) + " events: the run's later events up to its end are left out"}
	}
	rs.events++
	rs.touched = true
	ev.Seq, ev.Time = rs.events, b.now
	data, err := encodeEvent(ev)
	if err != nil {
		// Values reached this far through the same codec; an event that
		// does not encode keeps its place with what can be said of it.
		data, _ = encodeEvent(&store.Event{Type: ev.Type, Node: ev.Node, Frame: ev.Frame, Message: "event not encodable: " + err.Error()})
	}
	b.evRuns, b.evSeqs, b.evAts, b.evData = append(b.evRuns, rs.id), append(b.evSeqs, rs.events), append(b.evAts, b.now.UnixNano()), append(b.evData, data)
}

// emitRecord journals the write of rec, as stored.
func (b *batch) emitRecord(rs *runState, rec *store.Record, worker string) {
	if rs.cut {
		return
	}
	ev := &store.Event{Type: store.RecordEventType(rec), Node: rec.Key, Frame: rec.Frame, Attempt: rec.Attempts, Worker: worker, Record: rec}
	if out, cut := store.LimitValue(rec.Output, b.s.limits.MaxValueBytes); cut {
		cp := *rec
		cp.Output = out
		ev.Record, ev.Truncated = &cp, true
	}
	b.add(rs, ev)
}

// emitEvents journals a transition's own events.
func (b *batch) emitEvents(rs *runState, evs []*store.Event, worker string) {
	for _, in := range evs {
		if rs.cut {
			return
		}
		ev := *in
		if ev.Worker == "" {
			ev.Worker = worker
		}
		var cut bool
		if ev.Message, cut = store.LimitString(ev.Message, b.s.limits.MaxValueBytes); cut {
			ev.Truncated = true
		}
		if ev.Record != nil {
			if out, cut := store.LimitValue(ev.Record.Output, b.s.limits.MaxValueBytes); cut {
				cp := *ev.Record
				cp.Output = out
				ev.Record, ev.Truncated = &cp, true
			}
		}
		b.add(rs, &ev)
	}
}

// emitCreated journals a run's header as created.
func (b *batch) emitCreated(rs *runState, hdr *store.Run) {
	h := *hdr
	ev := &store.Event{Type: store.EventRunCreated, Run: &h}
	for k, v := range h.Inputs {
		if out, cut := store.LimitValue(v, b.s.limits.MaxValueBytes); cut {
			if !ev.Truncated {
				h.Inputs = maps.Clone(h.Inputs)
				ev.Truncated = true
			}
			h.Inputs[k] = out
		}
	}
	b.add(rs, ev)
}

// Events implements store.Journal: a reader with nothing to read waits for
// the run's next notification (or its wait's end).
func (s *Store) Events(ctx context.Context, run string, after int64, limit int, wait time.Duration) ([]*store.Event, error) {
	if limit <= 0 {
		limit = defaultEventsPage
	}
	after = max(after, 0)
	deadline := time.Now().Add(wait)
	var wake <-chan struct{}
	for {
		if wait > 0 && wake == nil {
			// Subscribed before reading, so an event appended in between
			// is not missed.
			wake = s.listen().run(run)
		}
		evs, status, err := s.readEvents(ctx, run, after, limit)
		if err != nil {
			return nil, err
		}
		if len(evs) > 0 {
			return evs, nil
		}
		left := time.Until(deadline)
		if status != store.Running || left <= 0 {
			return []*store.Event{}, nil
		}
		timer := time.NewTimer(left)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-wake:
			wake = nil
		case <-timer.C:
		}
		timer.Stop()
	}
}

// readEvents reads a page of a run's events and the run's status.
func (s *Store) readEvents(ctx context.Context, run string, after int64, limit int) ([]*store.Event, store.Status, error) {
	var status string
	if err := s.pool.QueryRow(ctx, `SELECT status FROM skript_runs WHERE id = $1`, run).Scan(&status); err != nil {
		return nil, "", notFound(err, "run "+run)
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, at, data FROM skript_events WHERE run = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
		run, after, limit)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	out := []*store.Event{}
	for rows.Next() {
		var seq, at int64
		var data []byte
		if err := rows.Scan(&seq, &at, &data); err != nil {
			return nil, "", err
		}
		ev, err := decodeEvent(data)
		if err != nil {
			return nil, "", err
		}
		ev.Seq, ev.Time = seq, time.Unix(0, at)
		out = append(out, ev)
	}
	return out, store.Status(status), rows.Err()
}
