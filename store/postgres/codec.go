package postgres

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/value"
)

// Values reach the database through package value's codec (tags for
// durations and times, exact numbers), inside plain JSON documents: the
// tables hold bytes the driver alone decodes, so no SQL type changes what
// a run reads back.

func encodeRecord(rec *store.Record) ([]byte, error) {
	cp := *rec
	cp.Output = value.Tagged(rec.Output)
	b, err := json.Marshal(&cp)
	if err != nil {
		return nil, fmt.Errorf("record %s/%s: %w", rec.Frame, rec.Key, err)
	}
	return b, nil
}

func decodeRecord(b []byte) (*store.Record, error) {
	rec := &store.Record{}
	if err := value.UnmarshalExact(bytes.NewReader(b), rec); err != nil {
		return nil, store.Permanent(fmt.Errorf("bad record: %w", err))
	}
	var err error
	if rec.Output, err = value.FromJSON(rec.Output); err != nil {
		return nil, store.Permanent(fmt.Errorf("bad record %s/%s: %w", rec.Frame, rec.Key, err))
	}
	return rec, nil
}

func encodeValue(v any) ([]byte, error) { return value.Marshal(v) }

func decodeValue(b []byte) (any, error) {
	v, err := value.Unmarshal(b)
	if err != nil {
		return nil, store.Permanent(fmt.Errorf("bad value: %w", err))
	}
	return v, nil
}

// encodeHeader is a run's header as stored: everything but what changes
// when it ends (status, output, error, end time), which have columns.
func encodeHeader(r *store.Run) ([]byte, error) {
	cp := *r
	cp.Output, cp.Error, cp.Status = nil, nil, ""
	if cp.Inputs != nil {
		in := make(map[string]any, len(cp.Inputs))
		for k, v := range cp.Inputs {
			in[k] = value.Tagged(v)
		}
		cp.Inputs = in
	}
	b, err := json.Marshal(&cp)
	if err != nil {
		return nil, fmt.Errorf("run inputs: %w", err)
	}
	return b, nil
}

func decodeHeader(b []byte) (*store.Run, error) {
	r := &store.Run{}
	if err := value.UnmarshalExact(bytes.NewReader(b), r); err != nil {
		return nil, store.Permanent(fmt.Errorf("bad run header: %w", err))
	}
	for k, v := range r.Inputs {
		var err error
		if r.Inputs[k], err = value.FromJSON(v); err != nil {
			return nil, store.Permanent(fmt.Errorf("bad run input %q: %w", k, err))
		}
	}
	return r, nil
}

// encodeEvent is an event as the journal keeps it; Seq and Time have
// columns of their own.
func encodeEvent(ev *store.Event) ([]byte, error) {
	cp := *ev
	cp.Seq = 0
	cp.Time = cp.Time.UTC()
	if ev.Record != nil {
		rec := *ev.Record
		rec.Output = value.Tagged(rec.Output)
		cp.Record = &rec
	}
	if ev.Run != nil {
		h := *ev.Run
		if h.Inputs != nil {
			h.Inputs = make(map[string]any, len(ev.Run.Inputs))
			for k, v := range ev.Run.Inputs {
				h.Inputs[k] = value.Tagged(v)
			}
		}
		h.Output = value.Tagged(h.Output)
		cp.Run = &h
	}
	if ev.End != nil {
		e := *ev.End
		e.Output = value.Tagged(e.Output)
		cp.End = &e
	}
	b, err := json.Marshal(&cp)
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", ev.Type, err)
	}
	return b, nil
}

func decodeEvent(b []byte) (*store.Event, error) {
	ev := &store.Event{}
	if err := value.UnmarshalExact(bytes.NewReader(b), ev); err != nil {
		return nil, store.Permanent(fmt.Errorf("bad event: %w", err))
	}
	var err error
	if ev.Record != nil {
		if ev.Record.Output, err = value.FromJSON(ev.Record.Output); err != nil {
			return nil, store.Permanent(err)
		}
	}
	if ev.Run != nil {
		for k, in := range ev.Run.Inputs {
			if ev.Run.Inputs[k], err = value.FromJSON(in); err != nil {
				return nil, store.Permanent(err)
			}
		}
		if ev.Run.Output, err = value.FromJSON(ev.Run.Output); err != nil {
			return nil, store.Permanent(err)
		}
	}
	if ev.End != nil {
		if ev.End.Output, err = value.FromJSON(ev.End.Output); err != nil {
			return nil, store.Permanent(err)
		}
	}
	return ev, nil
}

func encodeTask(t *store.Task) ([]byte, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("task: %w", err)
	}
	return b, nil
}

func decodeTask(b []byte) (*store.Task, error) {
	t := &store.Task{}
	if err := json.Unmarshal(b, t); err != nil {
		return nil, store.Permanent(fmt.Errorf("bad task: %w", err))
	}
	return t, nil
}

func encodeGroup(g *store.Group) ([]byte, error) {
	b, err := json.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("group %s: %w", g.ID, err)
	}
	return b, nil
}

func decodeGroup(b []byte) (*store.Group, error) {
	g := &store.Group{}
	if err := json.Unmarshal(b, g); err != nil {
		return nil, store.Permanent(fmt.Errorf("bad group: %w", err))
	}
	return g, nil
}

func encodeError(e *store.ErrorInfo) []byte {
	if e == nil {
		return nil
	}
	b, _ := json.Marshal(e) // two strings: cannot fail
	return b
}

func decodeError(b []byte) (*store.ErrorInfo, error) {
	if len(b) == 0 {
		return nil, nil
	}
	e := &store.ErrorInfo{}
	if err := json.Unmarshal(b, e); err != nil {
		return nil, store.Permanent(fmt.Errorf("bad error: %w", err))
	}
	return e, nil
}
