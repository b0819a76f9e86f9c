package action

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// errType is the type a failure gives filters.
func errType(err error) string {
	typ, _ := TypeOf(err)
	return typ
}

func TestErrorTypes(t *testing.T) {
	require.Equal(t, ErrGeneric, errType(errors.New("plain")))
	wrapped := fmt.Errorf("outer: %w", &Error{Type: "billing.declined", Message: "no", Data: map[string]any{"code": 7}})
	typ, data := TypeOf(wrapped)
	require.Equal(t, "billing.declined", typ)
	require.Equal(t, map[string]any{"code": 7}, data)

	for _, typ := range ErrorTypes {
		require.True(t, KnownErrorType(typ), typ)
	}
	require.True(t, KnownErrorType("billing.declined"), "a host action's dotted type")
	require.False(t, KnownErrorType("http.statuss"), "a typo of a built-in type")
	require.False(t, KnownErrorType("timout"))
	require.False(t, KnownErrorType("billing."))
}

func TestFailGivesItsTypeAndData(t *testing.T) {
	_, err := invoke(t, context.Background(), Fail(), map[string]any{"message": "stop"})
	require.EqualError(t, err, "stop")
	require.Equal(t, ErrFail, errType(err))

	_, err = invoke(t, context.Background(), Fail(), map[string]any{"message": "over", "type": "quota.exceeded", "data": map[string]any{"limit": 3}})
	typ, data := TypeOf(err)
	require.Equal(t, "quota.exceeded", typ)
	require.Equal(t, map[string]any{"limit": 3}, data)
}

func TestShellExitGivesCodeAndTails(t *testing.T) {
	_, err := runShellAction(t, context.Background(), map[string]any{"command": "echo partial; echo boom >&2; exit 3"})
	typ, data := TypeOf(err)
	require.Equal(t, ErrShellExit, typ)
	require.Equal(t, map[string]any{"exit_code": 3, "stdout": "partial", "stderr": "boom"}, data)
}
