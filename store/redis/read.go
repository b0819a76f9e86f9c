package redis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/skript-dev/skript/internal/backoff"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/value"
)

// GetRun implements store.Store.
func (s *Store) GetRun(ctx context.Context, id string) (*store.Run, error) {
	vals, err := s.c.Do(ctx, s.c.B().Hmget().Key(s.runKey(id)).Field("hdr", "status", "output", "error", "ended", "fst", "fout", "ferr").Build()).ToArray()
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, err)
	}
	str := func(i int) string {
		if i >= len(vals) {
			return ""
		}
		v, _ := vals[i].ToString() // nil for an absent field
		return v
	}
	hdr := str(0)
	if hdr == "" {
		return nil, fmt.Errorf("run %s: %w", id, store.ErrNotFound)
	}
	r := &store.Run{}
	if err := value.UnmarshalExact(strings.NewReader(hdr), r); err != nil {
		return nil, fmt.Errorf("run %s: bad header: %w", id, store.Permanent(err))
	}
	for k, v := range r.Inputs {
		if r.Inputs[k], err = value.FromJSON(v); err != nil {
			return nil, fmt.Errorf("run %s: bad input %q: %w", id, k, store.Permanent(err))
		}
	}
	end, err := decodeEnd(str(1), str(2), str(3))
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", id, err)
	}
	r.Status, r.Output, r.Error = end.Status, end.Output, end.Error
	if st := str(5); st != "" {
		// The end the run came to before its finally nodes (apply.lua).
		if r.Finishing, err = decodeEnd(st, str(6), str(7)); err != nil {
			return nil, fmt.Errorf("run %s: finishing: %w", id, err)
		}
	}
	if v := str(4); v != "" {
		if r.Ended, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return nil, fmt.Errorf("run %s: bad end time: %w", id, store.Permanent(err))
		}
	}
	return r, nil
}

// decodeEnd reads a run's end from its header's fields.
func decodeEnd(status, out, errJSON string) (*store.RunEnd, error) {
	e := &store.RunEnd{Status: store.Status(status)}
	if out != "" {
		if err := value.UnmarshalExact(strings.NewReader(out), &e.Output); err != nil {
			return nil, fmt.Errorf("bad output: %w", store.Permanent(err))
		}
		var err error
		if e.Output, err = value.FromJSON(e.Output); err != nil {
			return nil, fmt.Errorf("bad output: %w", store.Permanent(err))
		}
	}
	if errJSON != "" {
		e.Error = &store.ErrorInfo{}
		if err := value.UnmarshalExact(strings.NewReader(errJSON), e.Error); err != nil {
			return nil, fmt.Errorf("bad error: %w", store.Permanent(err))
		}
	}
	return e, nil
}

// withRun runs cmd on a run's records after checking that the run exists,
// in one round trip (both keys are in the run's slot).
func (s *Store) withRun(ctx context.Context, id string, cmd rueidis.Completed) (rueidis.RedisResult, error) {
	res := s.c.DoMulti(ctx, s.c.B().Exists().Key(s.runKey(id)).Build(), cmd)
	n, err := res[0].AsInt64()
	if err != nil {
		return res[1], fmt.Errorf("run %s: %w", id, err)
	}
	if n == 0 {
		return res[1], fmt.Errorf("run %s: %w", id, store.ErrNotFound)
	}
	return res[1], nil
}

func decodeRecord(v string) (*store.Record, error) {
	r := &store.Record{}
	if err := value.UnmarshalExact(strings.NewReader(v), r); err != nil {
		return nil, fmt.Errorf("bad record: %w", store.Permanent(err))
	}
	var err error
	if r.Output, err = value.FromJSON(r.Output); err != nil {
		return nil, fmt.Errorf("bad record %s/%s: %w", r.Frame, r.Key, store.Permanent(err))
	}
	return r, nil
}

// Records implements store.Store.
func (s *Store) Records(ctx context.Context, id string, keys []store.RecordKey) ([]*store.Record, error) {
	out := make([]*store.Record, len(keys))
	if len(keys) == 0 {
		_, err := s.withRun(ctx, id, s.c.B().Exists().Key(s.recKey(id)).Build())
		return out, err
	}
	fields := make([]string, len(keys))
	for i, k := range keys {
		fields[i] = recordField(k)
	}
	res, err := s.withRun(ctx, id, s.c.B().Hmget().Key(s.recKey(id)).Field(fields...).Build())
	if err != nil {
		return nil, err
	}
	vals, err := res.ToArray()
	if err != nil {
		return nil, fmt.Errorf("records of %s: %w", id, err)
	}
	for i, v := range vals {
		str, err := v.ToString()
		if err != nil {
			continue // absent
		}
		if out[i], err = decodeRecord(str); err != nil {
			return nil, fmt.Errorf("run %s: %w", id, err)
		}
	}
	return out, nil
}

// AllRecords implements store.Store.
func (s *Store) AllRecords(ctx context.Context, id string) ([]*store.Record, error) {
	res, err := s.withRun(ctx, id, s.c.B().Hvals().Key(s.recKey(id)).Build())
	if err != nil {
		return nil, err
	}
	vals, err := res.AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("records of %s: %w", id, err)
	}
	out := make([]*store.Record, 0, len(vals))
	for _, v := range vals {
		r, err := decodeRecord(v)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", id, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// WaitRun implements store.Store. It listens for the run's end on the
// ended channel and, because a message can be lost while the connection is
// down, also re-reads the header with a growing interval.
func (s *Store) WaitRun(ctx context.Context, id string) (*store.Run, error) {
	w := s.hub.waitFor(id)
	defer s.hub.stopWaiting(id, w)
	ended := (<-chan struct{})(w)
	// Jittered, so that many waiters started together do not poll together.
	poll := backoff.New(20*time.Millisecond, time.Second)
	for {
		r, err := s.GetRun(ctx, id)
		if err != nil || r.Status.Done() {
			return r, err
		}
		t := time.NewTimer(poll.Next())
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-ended:
			ended = nil // read the header once more; a closed channel must not spin
		case <-t.C:
		}
		t.Stop()
	}
}
