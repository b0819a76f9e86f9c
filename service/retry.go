package service

import (
	"context"
	"errors"

	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
)

// Retry starts a new run of an ended run's Blueprint and inputs, linked
// to it (RetryOf), that keeps what the earlier run completed and runs the
// rest; from, when not empty, names a node to run again with every node
// after it (docs/retry.md has the exact rules). An unknown run is
// NotFound; a run still going, or a succeeded one without from, is a
// Conflict; a from that names no node (with the closest ids suggested)
// or a node no run can restart from is Invalid.
func (s *Service) Retry(ctx context.Context, id, from string) (*store.Run, error) {
	if err := s.needStore(); err != nil {
		return nil, err
	}
	run, err := s.rt.Retry(ctx, id, runtime.RetryOptions{From: from})
	switch {
	case err == nil:
		hdr, err := s.st.GetRun(ctx, run.ID)
		return hdr, runErr(run.ID, err)
	case errors.Is(err, runtime.ErrRunNotFound):
		return nil, errorf(NotFound, err, "run %s not found", id)
	case errors.Is(err, runtime.ErrRunNotEnded), errors.Is(err, runtime.ErrNothingToRetry):
		return nil, &Error{Code: Conflict, Message: err.Error(), Err: err}
	case errors.Is(err, runtime.ErrUnknownNode), errors.Is(err, runtime.ErrNotRestartPoint):
		return nil, &Error{Code: Invalid, Message: err.Error(), Err: err}
	}
	// Anything else, a kept run whose Blueprint the store lost included,
	// is the store's failure, not the caller's.
	return nil, errorf(Internal, err, "%v", err)
}
