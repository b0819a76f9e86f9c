package action

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// interruptedError reports an action stopped by its context. Its text says
// "timed out" or "cancelled" in words (a bare "context deadline exceeded"
// does not tell a user that the node's timeout fired), and it wraps both the
// context error and its cause for errors.Is.
type interruptedError struct {
	msg   string
	err   error
	cause error
}

func (e *interruptedError) Error() string { return e.msg }
func (e *interruptedError) Unwrap() []error {
	if e.cause == nil || e.cause == e.err { //nolint:errorlint // identity: the same error must not be listed twice
		return []error{e.err}
	}
	return []error{e.err, e.cause}
}

// interrupted builds the error an action returns when ctx ends its work.
func interrupted(ctx context.Context, what string) error {
	err := ctx.Err()
	if err == nil {
		err = context.Canceled
	}
	cause := context.Cause(ctx)
	verb := "cancelled"
	if errors.Is(err, context.DeadlineExceeded) {
		verb = "timed out"
	}
	msg := fmt.Sprintf("%s: %s", what, verb)
	if cause != nil && cause != err { //nolint:errorlint // identity, as above
		msg += ": " + cause.Error()
	}
	return &interruptedError{msg: msg, err: err, cause: cause}
}

// stringParam reads an optional string param; absent reads as "".
func stringParam(p map[string]any, name string) string {
	s, _ := toString(p[name])
	return s
}

// durationParam reads a Duration param. It also accepts the undecoded
// string form, so an action called with raw params (a test, a host calling
// Run directly) does not silently see zero.
func durationParam(p map[string]any, name string) (time.Duration, error) {
	v, ok := p[name]
	if !ok || v == nil {
		return 0, nil
	}
	d, err := coerceType(Duration, Any, v)
	if err != nil {
		return 0, &ParamError{Param: name, Err: err}
	}
	return d.(time.Duration), nil
}
