package skript

import (
	"context"

	"github.com/skript-dev/skript/runtime"
)

// RetryOptions say where a retry starts (see Engine.Retry).
type RetryOptions = runtime.RetryOptions

// Retry starts a new run that retries the ended run runID: the same
// Blueprint and inputs, linked to it by retry_of, keeping what that run
// completed and running the rest, or, with opts.From, running that node
// and everything after it again. docs/retry.md has the exact rules; the
// errors are runtime's (runtime.ErrRunNotFound, runtime.ErrRunNotEnded,
// runtime.ErrNothingToRetry, *runtime.UnknownNodeError,
// *runtime.RestartPointError). It starts the engine's workers if Start has
// not.
func (e *Engine) Retry(ctx context.Context, runID string, opts RetryOptions) (*Run, error) {
	e.startWorkers()
	return e.rt.Retry(ctx, runID, opts)
}
