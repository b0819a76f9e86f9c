package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/value"
)

// A run's journal is a stream, ev:ID, in the run's partition, written by
// the same script call as the state change it reports (apply.lua,
// start.lua). Each entry holds the events of one call: its id is 0-SEQ,
// SEQ the number of its first event, and its fields are t (the time of all
// its events) and e, one line per event, KIND TAB JSON:
//
//	e          an event the driver encoded whole (eventJSON)
//	r[:WORKER] a record as stored, written by WORKER's task
//	x[:WORKER] the same, its output over the value limit and cut
//
// WORKER is JSON-escaped (so it holds no tab nor newline), and JSON holds
// no raw newline. A record event costs the script no JSON work: it appends
// the record it has just stored, and the events of a call become one
// string (table.concat) and one XADD, whatever their number. Events
// derives the rest (type, node, frame, attempt) from the record.

var _ store.Journal = (*Store)(nil)

// WithJournalLimits bounds every run's journal (store.DefaultMaxEvents
// events and store.DefaultMaxValueBytes a value unless given).
func WithJournalLimits(l store.JournalLimits) Option {
	return func(o *options) { o.limits = l.Resolved() }
}

// WithoutJournal stops the driver from appending to runs' journals (the
// URL option journal=off does the same): Events then returns what was
// journaled before, and nothing more. It is for deployments that do not
// want the journal's memory and cost; runs' state is the same either way.
func WithoutJournal() Option { return func(o *options) { o.journalOff = true } }

// maxEventsArg is the scripts' limit on events: -1 journals nothing.
func (s *Store) maxEventsArg() string {
	if s.opt.journalOff {
		return "-1"
	}
	return strconv.Itoa(s.opt.limits.MaxEvents)
}

// defaultEventsPage is how many events Events returns when max is 0.
const defaultEventsPage = 1000

// journalTime formats a time with a fixed width, so that the scripts can
// compare two as text (they keep a journal's times from going back when
// workers' clocks differ).
func journalTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// eventJSON encodes an event the runtime added to a transition, as the
// journal keeps it: worker by default the task's, values over the limit
// cut (store.LimitValue).
func (s *Store) eventJSON(in *store.Event, worker string) (string, error) {
	if s.opt.journalOff {
		return "", nil
	}
	ev := *in
	ev.Seq, ev.Time = 0, time.Time{}
	if ev.Worker == "" {
		ev.Worker = worker
	}
	max := s.opt.limits.MaxValueBytes
	var cut bool
	if ev.Message, cut = store.LimitString(ev.Message, max); cut {
		ev.Truncated = true
	}
	if ev.Record != nil {
		rec := *ev.Record
		if rec.Output, cut = store.LimitValue(rec.Output, max); cut {
			ev.Truncated = true
		}
		rec.Output = value.Tagged(rec.Output)
		ev.Record = &rec
	}
	if ev.Run != nil {
		h := *ev.Run
		h.Inputs = s.limitInputs(h.Inputs, &ev.Truncated)
		ev.Run = &h
	}
	if ev.End != nil {
		end := *ev.End
		if end.Output, cut = store.LimitValue(end.Output, max); cut {
			ev.Truncated = true
		}
		end.Output = value.Tagged(end.Output)
		ev.End = &end
	}
	b, err := json.Marshal(&ev)
	if err != nil {
		return "", fmt.Errorf("event %s: %w", ev.Type, err)
	}
	return string(b), nil
}

// limitInputs returns a run's inputs as an event keeps them: each value
// over the limit cut, and tagged for the codec.
func (s *Store) limitInputs(in map[string]any, cut *bool) map[string]any {
	if len(in) == 0 {
		return in
	}
	out := maps.Clone(in)
	for k, v := range out {
		lv, c := store.LimitValue(v, s.opt.limits.MaxValueBytes)
		if c {
			*cut = true
		}
		out[k] = value.Tagged(lv)
	}
	return out
}

// createdEvent is the run.created event of a run's header.
func (s *Store) createdEvent(hdr *store.Run) (string, error) {
	h := *hdr
	h.Status = store.Running
	return s.eventJSON(&store.Event{Type: store.EventRunCreated, Run: &h}, "")
}

// endEvent is the event that ends a run's journal.
func (s *Store) endEvent(typ store.EventType, end *store.RunEnd) (string, error) {
	return s.eventJSON(&store.Event{Type: typ, End: end}, "")
}

// journalRecord returns the record as the journal keeps it when its
// output is over the value limit (the stored one otherwise, as "").
func (s *Store) journalRecord(rec *store.Record) (string, error) {
	if s.opt.journalOff {
		return "", nil
	}
	out, cut := store.LimitValue(rec.Output, s.opt.limits.MaxValueBytes)
	if !cut {
		return "", nil
	}
	cp := *rec
	cp.Output = out
	return encodeRecord(&cp)
}

// Events implements store.Journal. It reads the journal's entries from the
// one that holds event after+1; with nothing new, it waits on XREAD BLOCK
// for the next entry (rueidis sends a blocking command on a connection of
// its own, so a waiting reader holds up nothing else).
func (s *Store) Events(ctx context.Context, id string, after int64, max int, wait time.Duration) ([]*store.Event, error) {
	if max <= 0 {
		max = defaultEventsPage
	}
	after = max64(after, 0)
	deadline := time.Now().Add(wait)
	p := s.parts[s.partOf(id)]
	ek := p.prefix + "ev:" + id
	for {
		evs, last, running, err := s.readEvents(ctx, p.prefix+"run:"+id, ek, after, max)
		if err != nil {
			return nil, fmt.Errorf("events of %s: %w", id, err)
		}
		if len(evs) > 0 || !running {
			return evs, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return evs, nil
		}
		cmd := s.c.B().Xread().Count(1).Block(max64(left.Milliseconds(), 1)).Streams().Key(ek).Id(last).Build().UnblockOnCancel()
		if err := s.c.Do(ctx, cmd).Error(); err != nil && !rueidis.IsRedisNil(err) {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("events of %s: %w", id, err)
		}
	}
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// journalScan is how many entries one XRANGE of Events reads.
const journalScan = 16

// readEvents reads up to max events after seq after. It returns the id of
// the last entry it read (where a wait for more starts) and whether the run
// is running; ErrNotFound when it has no header.
func (s *Store) readEvents(ctx context.Context, hk, ek string, after int64, max int) ([]*store.Event, string, bool, error) {
	res := s.c.DoMulti(ctx,
		s.c.B().Hget().Key(hk).Field("status").Build(),
		s.c.B().Xrevrange().Key(ek).End("0-"+strconv.FormatInt(after+1, 10)).Start("-").Count(1).Build())
	status, err := res[0].ToString()
	if rueidis.IsRedisNil(err) {
		return nil, "", false, store.ErrNotFound
	}
	if err != nil {
		return nil, "", false, err
	}
	first, err := res[1].AsXRangeSlices()
	if err != nil {
		return nil, "", false, err
	}
	start, last := "-", "0-0"
	if len(first) > 0 {
		start = first[0].ID
	}
	var out []*store.Event
	for len(out) < max {
		entries, err := s.c.Do(ctx, s.c.B().Xrange().Key(ek).Start(start).End("+").Count(journalScan).Build()).AsXRangeSlices()
		if err != nil {
			return nil, "", false, err
		}
		for _, e := range entries {
			last = e.ID
			if out, err = decodeEntry(out, e, after, max); err != nil {
				return nil, "", false, err
			}
		}
		if len(entries) < journalScan {
			break
		}
		start = "(" + last
	}
	return out, last, status == string(store.Running), nil
}

// decodeEntry appends the events of a journal entry numbered after after
// to out, up to max in all; the others it does not decode.
func decodeEntry(out []*store.Event, e rueidis.XRangeSlice, after int64, max int) ([]*store.Event, error) {
	_, seqs, _ := strings.Cut(e.ID, "-")
	seq, err := strconv.ParseInt(seqs, 10, 64)
	if err != nil || len(e.FieldValues) != 2 || e.FieldValues[0].Field != "t" || e.FieldValues[1].Field != "e" {
		return nil, store.Permanent(fmt.Errorf("bad journal entry %q", e.ID))
	}
	at, err := time.Parse(time.RFC3339Nano, e.FieldValues[0].Value)
	if err != nil {
		return nil, store.Permanent(fmt.Errorf("journal entry %s: bad time: %w", e.ID, err))
	}
	lines := strings.Split(strings.TrimSuffix(e.FieldValues[1].Value, "\n"), "\n")
	for _, line := range lines {
		if seq <= after {
			seq++
			continue
		}
		if len(out) >= max {
			break
		}
		kind, js, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, store.Permanent(fmt.Errorf("journal entry %s: bad line", e.ID))
		}
		ev, err := decodeEvent(kind, js)
		if err != nil {
			return nil, fmt.Errorf("journal entry %s: %w", e.ID, store.Permanent(err))
		}
		ev.Seq, ev.Time = seq, at
		seq++
		out = append(out, ev)
	}
	return out, nil
}

// decodeEvent decodes one event of an entry (see the top of the file).
func decodeEvent(field, v string) (*store.Event, error) {
	kind, w, hasWorker := strings.Cut(field, ":")
	switch kind {
	case "r", "x":
		rec, err := decodeRecord(v)
		if err != nil {
			return nil, err
		}
		worker := ""
		if hasWorker {
			if err := json.Unmarshal([]byte(`"`+w+`"`), &worker); err != nil {
				return nil, fmt.Errorf("bad worker %q: %w", w, err)
			}
		}
		return &store.Event{Type: store.RecordEventType(rec), Node: rec.Key, Frame: rec.Frame, Attempt: rec.Attempts,
			Worker: worker, Record: rec, Truncated: kind == "x"}, nil
	case "e":
		ev := &store.Event{}
		if err := value.UnmarshalExact(strings.NewReader(v), ev); err != nil {
			return nil, fmt.Errorf("bad event: %w", err)
		}
		var err error
		if ev.Record != nil {
			if ev.Record.Output, err = value.FromJSON(ev.Record.Output); err != nil {
				return nil, err
			}
		}
		if ev.Run != nil {
			for k, in := range ev.Run.Inputs {
				if ev.Run.Inputs[k], err = value.FromJSON(in); err != nil {
					return nil, err
				}
			}
		}
		if ev.End != nil {
			if ev.End.Output, err = value.FromJSON(ev.End.Output); err != nil {
				return nil, err
			}
		}
		return ev, nil
	}
	return nil, fmt.Errorf("unknown journal field %q", field)
}
