package compiler

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
)

// An action the host denies is reported as denied, where it is named, not
// as unknown (which would send the author looking for a typo).
func TestDeniedActionIsNamedAsDenied(t *testing.T) {
	reg := action.Builtins()
	reg.Remove("shell")
	src := "name: t\nnodes:\n  - {id: a, kind: Action, action: shell, params: {command: 'true'}}\n  - {id: b, kind: Action, action: shel}\n"
	_, errs := Compile("t.yaml", []byte(src), Options{Registry: reg, Denied: []string{"shell"}})
	require.Equal(t, `t.yaml:3:35: action "shell" is denied on this host (--deny-action)
t.yaml:4:35: unknown action "shel"`, errs.Error())
}
