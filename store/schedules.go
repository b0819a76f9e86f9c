package store

import "context"

// ScheduleRecord is a schedule as a store keeps it: two opaque documents
// of package schedule, written apart so that a server recording the tick
// it fired never overwrites an operator's pause, nor the reverse.
type ScheduleRecord struct {
	Name string
	// Spec is what the operator asked for (cron, zone, workflow...).
	Spec []byte
	// State is where firing has got to (nil before the first tick).
	State []byte
}

// Schedules keeps schedules. It is optional: a driver without it cannot
// serve schedules (the server says so). Firing a tick exactly once does
// not rest on it but on idempotency keys (Run.Key): State only tells a
// server coming back from downtime which ticks it missed.
type Schedules interface {
	// PutSchedule adds or replaces a schedule's spec.
	PutSchedule(ctx context.Context, name string, spec []byte) error
	// PutScheduleState replaces a schedule's state; last writer wins.
	PutScheduleState(ctx context.Context, name string, state []byte) error
	// GetSchedule returns a schedule, or ErrNotFound when it has no spec.
	GetSchedule(ctx context.Context, name string) (*ScheduleRecord, error)
	// ListSchedules returns every schedule that has a spec, by name.
	ListSchedules(ctx context.Context) ([]*ScheduleRecord, error)
	// DeleteSchedule removes a schedule's spec and state, or returns
	// ErrNotFound.
	DeleteSchedule(ctx context.Context, name string) error
}
