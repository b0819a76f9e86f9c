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

// TestRetryFiltersAreChecked: a retry filter names error types that exist
// and reads only what a failed attempt knows.
func TestRetryFiltersAreChecked(t *testing.T) {
	require.Empty(t, errLines(t, `name: t
defaults:
  retry: {errors: [http.status, timeout], when: "error.status >= 500 && attempt < 5"}
nodes:
  - {id: a, kind: Action, action: noop, retry: {except: [params, billing.declined]}}
  - {id: b, kind: Action, action: noop}
`))
	require.Equal(t, `t.yaml:3:20: retry errors: unknown error type "http.statu"; did you mean "http.status"?
t.yaml:5:58: retry except: unknown error type "timout"; did you mean "timeout"?`, errLines(t, `name: t
defaults:
  retry: {errors: [http.statu]}
nodes:
  - {id: a, kind: Action, action: noop, retry: {except: [timout]}}
`))
	require.Contains(t, errLines(t, `name: t
nodes:
  - {id: a, kind: Action, action: noop, params: {n: "${{ attempt }}"}}
`), "attempt is only available in a retry condition (retry.when)")
	require.Contains(t, errLines(t, `name: t
nodes:
  - {id: a, kind: Action, action: noop, retry: {when: "error.exitcode == 1"}}
`), `error has no field "exitcode"; did you mean "exit_code"?`)
}
