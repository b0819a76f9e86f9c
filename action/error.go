package action

import (
	"errors"
	"fmt"
	"strings"
)

// Error is a failure with a type, so that a workflow's retry and catch
// filters can tell a 404 from a 503 or a failed command from a timeout
// without reading messages. Data holds what the failure knows (an HTTP
// status and body, an exit code and output tails); its values are
// canonical (strings, ints, lists, maps) so every store keeps them alike.
// A host action returns one (or wraps one) to give its failures a type.
type Error struct {
	Type    string
	Message string
	Data    map[string]any
	// Err is the cause, for errors.Is and errors.As; its text is already
	// in Message.
	Err error
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Error returns the message, unchanged, so a catch sees what was written.
func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error of the given type with a formatted message.
func Errorf(typ string, data map[string]any, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...), Data: data}
}

// The error types the engine and its built-in actions give. A host action
// may give its own (a dotted name such as "billing.declined"); every other
// failure of an action has type ErrGeneric.
const (
	// ErrGeneric is an action's failure that says no type.
	ErrGeneric = "error"
	// ErrFail is the default type of the fail action.
	ErrFail = "fail"
	// ErrParams is a step whose params could not be built or did not
	// match the action's schema: running it again cannot help.
	ErrParams = "params"
	// ErrTimeout is a step or block that ran past its timeout, or a run
	// past its deadline.
	ErrTimeout = "timeout"
	// ErrCancelled is a node stopped because its run was cancelled or the
	// race it ran in was won by another branch.
	ErrCancelled = "cancelled"
	// ErrAbandoned is a step whose task stopped workers more often than
	// its store's delivery limit allows.
	ErrAbandoned = "abandoned"
	// ErrHTTPStatus is an HTTP response with a status >= 400 that
	// allow_status does not list; data: status, body.
	ErrHTTPStatus = "http.status"
	// ErrHTTPNetwork is an HTTP request that got no response.
	ErrHTTPNetwork = "http.network"
	// ErrShellExit is a command that exited non-zero or was killed;
	// data: exit_code, stdout, stderr (tails).
	ErrShellExit = "shell.exit"
	// ErrFailures is a fail_fast: false group that ends with failures;
	// data: failures.
	ErrFailures = "failures"
)

// ErrorTypes lists the types above, for filters' did-you-mean hints and
// documentation.
var ErrorTypes = []string{ErrGeneric, ErrFail, ErrParams, ErrTimeout, ErrCancelled, ErrAbandoned,
	ErrHTTPStatus, ErrHTTPNetwork, ErrShellExit, ErrFailures}

// KnownErrorType reports whether typ is a built-in type; a name with a
// dot whose first part is not a built-in prefix (http, shell) belongs to a
// host action and is accepted too.
func KnownErrorType(typ string) bool {
	for _, t := range ErrorTypes {
		if t == typ {
			return true
		}
	}
	pre, _, ok := strings.Cut(typ, ".")
	return ok && pre != "http" && pre != "shell" && pre != "" && !strings.HasSuffix(typ, ".")
}

// TypeOf returns the type of an action's error: that of the first *Error
// it wraps, else ErrGeneric.
func TypeOf(err error) (string, map[string]any) {
	var e *Error
	if errors.As(err, &e) && e.Type != "" {
		return e.Type, e.Data
	}
	return ErrGeneric, nil
}
