package redis

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/rueidis"

	"github.com/skript-dev/skript/store"
)

// Schedules live in one hash, "spec:NAME" and "state:NAME" fields: a
// handful of small documents, read whole by the servers each minute.
func (s *Store) schedulesKey() string { return s.opt.prefix + ":schedules" }

// PutSchedule implements store.Schedules.
func (s *Store) PutSchedule(ctx context.Context, name string, spec []byte) error {
	err := s.c.Do(ctx, s.c.B().Hset().Key(s.schedulesKey()).FieldValue().FieldValue("spec:"+name, rueidis.BinaryString(spec)).Build()).Error()
	if err != nil {
		return fmt.Errorf("put schedule %s: %w", name, err)
	}
	return nil
}

// PutScheduleState implements store.Schedules.
func (s *Store) PutScheduleState(ctx context.Context, name string, state []byte) error {
	err := s.c.Do(ctx, s.c.B().Hset().Key(s.schedulesKey()).FieldValue().FieldValue("state:"+name, rueidis.BinaryString(state)).Build()).Error()
	if err != nil {
		return fmt.Errorf("put schedule %s state: %w", name, err)
	}
	return nil
}

// GetSchedule implements store.Schedules.
func (s *Store) GetSchedule(ctx context.Context, name string) (*store.ScheduleRecord, error) {
	vals, err := s.c.Do(ctx, s.c.B().Hmget().Key(s.schedulesKey()).Field("spec:"+name, "state:"+name).Build()).ToArray()
	if err != nil {
		return nil, fmt.Errorf("get schedule %s: %w", name, err)
	}
	if len(vals) != 2 || vals[0].IsNil() {
		return nil, store.ErrNotFound
	}
	rec := &store.ScheduleRecord{Name: name}
	if rec.Spec, err = vals[0].AsBytes(); err != nil {
		return nil, fmt.Errorf("get schedule %s: %w", name, err)
	}
	if !vals[1].IsNil() {
		if rec.State, err = vals[1].AsBytes(); err != nil {
			return nil, fmt.Errorf("get schedule %s: %w", name, err)
		}
	}
	return rec, nil
}

// ListSchedules implements store.Schedules.
func (s *Store) ListSchedules(ctx context.Context) ([]*store.ScheduleRecord, error) {
	all, err := s.c.Do(ctx, s.c.B().Hgetall().Key(s.schedulesKey()).Build()).AsStrMap()
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	var out []*store.ScheduleRecord
	for field, v := range all {
		if name, ok := strings.CutPrefix(field, "spec:"); ok {
			rec := &store.ScheduleRecord{Name: name, Spec: []byte(v)}
			if st, ok := all["state:"+name]; ok {
				rec.State = []byte(st)
			}
			out = append(out, rec)
		}
	}
	slices.SortFunc(out, func(a, b *store.ScheduleRecord) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// DeleteSchedule implements store.Schedules.
func (s *Store) DeleteSchedule(ctx context.Context, name string) error {
	n, err := s.c.Do(ctx, s.c.B().Hdel().Key(s.schedulesKey()).Field("spec:"+name, "state:"+name).Build()).AsInt64()
	if err != nil {
		return fmt.Errorf("delete schedule %s: %w", name, err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

var _ store.Schedules = (*Store)(nil)
