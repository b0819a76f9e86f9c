package store

import (
	"context"
	"errors"
	"time"
)

// ErrRunExists is returned (wrapped in a *RunExistsError) by CreateRun
// for a run whose idempotency Key an earlier run already holds.
var ErrRunExists = errors.New("run exists")

// RunExistsError names the run that already holds an idempotency key.
type RunExistsError struct {
	Key string
	ID  string // the existing run
}

// Error implements error without the key, which may be a caller's secret.
func (e *RunExistsError) Error() string { return "a run with this idempotency key exists: " + e.ID }

// Is makes errors.Is(err, ErrRunExists) hold.
func (e *RunExistsError) Is(target error) bool { return target == ErrRunExists }

// RunFilter selects runs for ListRuns and CountRuns. Zero fields match
// every run.
type RunFilter struct {
	Workflow string
	Status   Status
	// CreatedAfter and CreatedBefore bound the run's Created time
	// (after is exclusive, before exclusive).
	CreatedAfter  time.Time
	CreatedBefore time.Time
}

// RunPage is one page of ListRuns.
type RunPage struct {
	// Runs, newest first (by Created, then by id descending).
	Runs []*Run
	// Next is the cursor of the next page, "" after the last one.
	Next string
}

// RunIndex lists a store's kept runs.
type RunIndex interface {
	// ListRuns returns up to limit runs matching f, newest first, starting
	// after cursor ("" for the first page). The headers may leave Inputs
	// and Output out (GetRun has them).
	ListRuns(ctx context.Context, f RunFilter, cursor string, limit int) (*RunPage, error)
	// CountRuns counts the runs matching f (its Status ignored) by status.
	CountRuns(ctx context.Context, f RunFilter) (map[Status]int, error)
}
