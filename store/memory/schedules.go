package memory

import (
	"context"
	"slices"
	"strings"

	"github.com/skript-dev/skript/store"
)

// schedules holds the store.Schedules documents; guarded by schedMu.
type schedules struct {
	spec, state map[string][]byte
}

// PutSchedule implements store.Schedules.
func (s *Store) PutSchedule(_ context.Context, name string, spec []byte) error {
	s.schedMu.Lock()
	defer s.schedMu.Unlock()
	s.sched.init()
	s.sched.spec[name] = slices.Clone(spec)
	return nil
}

// PutScheduleState implements store.Schedules.
func (s *Store) PutScheduleState(_ context.Context, name string, state []byte) error {
	s.schedMu.Lock()
	defer s.schedMu.Unlock()
	s.sched.init()
	s.sched.state[name] = slices.Clone(state)
	return nil
}

// GetSchedule implements store.Schedules.
func (s *Store) GetSchedule(_ context.Context, name string) (*store.ScheduleRecord, error) {
	s.schedMu.Lock()
	defer s.schedMu.Unlock()
	spec, ok := s.sched.spec[name]
	if !ok {
		return nil, store.ErrNotFound
	}
	return &store.ScheduleRecord{Name: name, Spec: slices.Clone(spec), State: slices.Clone(s.sched.state[name])}, nil
}

// ListSchedules implements store.Schedules.
func (s *Store) ListSchedules(_ context.Context) ([]*store.ScheduleRecord, error) {
	s.schedMu.Lock()
	defer s.schedMu.Unlock()
	out := make([]*store.ScheduleRecord, 0, len(s.sched.spec))
	for name, spec := range s.sched.spec {
		out = append(out, &store.ScheduleRecord{Name: name, Spec: slices.Clone(spec), State: slices.Clone(s.sched.state[name])})
	}
	slices.SortFunc(out, func(a, b *store.ScheduleRecord) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// DeleteSchedule implements store.Schedules.
func (s *Store) DeleteSchedule(_ context.Context, name string) error {
	s.schedMu.Lock()
	defer s.schedMu.Unlock()
	if _, ok := s.sched.spec[name]; !ok {
		return store.ErrNotFound
	}
	delete(s.sched.spec, name)
	delete(s.sched.state, name)
	return nil
}

func (c *schedules) init() {
	if c.spec == nil {
		c.spec, c.state = map[string][]byte{}, map[string][]byte{}
	}
}

var _ store.Schedules = (*Store)(nil)
