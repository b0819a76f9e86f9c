package compiler

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCatchKnowsTheErrorFields: a catch block reads the failure's type and
// data by name; a misspelt field is a positioned error with a hint.
func TestCatchKnowsTheErrorFields(t *testing.T) {
	ok := `name: t
nodes:
  - id: a
    kind: Action
    action: fail
    params: {message: no}
    catch:
      - {id: h, kind: Action, action: set, params: {t: "${{ error.type }}", s: "${{ error.status }}", c: "${{ error.exit_code }}", d: "${{ error.data.x }}"}}
`
	require.Empty(t, errLines(t, ok))
	bad := `name: t
nodes:
  - id: a
    kind: Action
    action: fail
    params: {message: no}
    catch:
      - {id: h, kind: Action, action: set, params: {c: "${{ error.exitcode }}"}}
`
	require.Equal(t, `t.yaml:8:67: error has no field "exitcode"; did you mean "exit_code"?`, errLines(t, bad))
}
