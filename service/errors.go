package service

import (
	"errors"
	"fmt"

	"github.com/skript-dev/skript/store"
)

// Code classifies an Error, so a caller maps it to its own answer: an
// exit code in the CLI, a status in the HTTP API.
type Code string

// Error codes. Their names follow the gRPC/HTTP ones they map to.
const (
	// Invalid: the request is wrong as given (a bad filter, an unknown
	// node, a workflow that does not compile, inputs the workflow
	// refuses). HTTP 400.
	Invalid Code = "invalid_argument"
	// NotFound: no such run (or it is no longer kept). HTTP 404.
	NotFound Code = "not_found"
	// Conflict: the request clashes with the state of a run (an
	// idempotency key held by a run of another workflow, a retry of a
	// run still running). HTTP 409.
	Conflict Code = "conflict"
	// Unsupported: the store cannot answer this (a driver without a
	// journal or a run index). HTTP 501.
	Unsupported Code = "unsupported"
	// Internal: anything else, such as a store that cannot be reached.
	// HTTP 500.
	Internal Code = "internal"
)

// Error is a Service method's failure. Message is meant for the caller
// and holds no secret; Err is the cause, kept for errors.Is/As.
type Error struct {
	Code    Code
	Message string
	Err     error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Message == "" && e.Err != nil {
		return e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns the code of err's *Error, Internal for any other error
// and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

func errorf(code Code, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// runErr types a store error about one run: ErrNotFound becomes NotFound,
// anything else Internal.
func runErr(id string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, store.ErrNotFound) {
		return errorf(NotFound, err, "run %s not found", id)
	}
	return errorf(Internal, err, "run %s: %v", id, err)
}
