package runtime_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
)

// TestTypedErrorsInCatch: every failure has a type and its data, which a
// catch block reads as error.type, error.status, error.exit_code..., and
// the run's result and records keep on every store.
func TestTypedErrorsInCatch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("no such order"))
	}))
	defer srv.Close()
	onStores(t, func(t *testing.T, st store.Store) {
		f := newRecFlow(t, st, nil, fmt.Sprintf(`name: typed
nodes:
  - id: get
    kind: Action
    action: http
    params: {url: "%s/orders/7"}
    catch:
      - {id: h1, kind: Action, action: set, params: {type: "${{ error.type }}", status: "${{ error.status }}", body: "${{ error.body }}"}}
  - id: sh
    kind: Action
    action: shell
    params: {command: "echo out; echo err >&2; exit 3"}
    catch:
      - {id: h2, kind: Action, action: set, params: {type: "${{ error.type }}", code: "${{ error.exit_code }}", stderr: "${{ error.stderr }}", stdout: "${{ error.stdout }}"}}
  - id: mine
    kind: Action
    action: fail
    params: {message: over quota, type: quota.exceeded, data: {limit: 3}}
    catch:
      - {id: h3, kind: Action, action: set, params: {type: "${{ error.type }}", limit: "${{ error.data.limit }}", message: "${{ error.message }}"}}
  - {id: soft, kind: Action, action: fail, params: {message: soft}, on_error: continue}
output:
  get: "${{ nodes.get.output }}"
  sh: "${{ nodes.sh.output }}"
  mine: "${{ nodes.mine.output }}"
  soft: "${{ nodes.soft.output.error.type }}"
`, srv.URL))
		res := f.wait(f.start())
		require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
		require.Equal(t, map[string]any{
			"get":  map[string]any{"type": "http.status", "status": 404, "body": "no such order"},
			"sh":   map[string]any{"type": "shell.exit", "code": 3, "stderr": "err", "stdout": "out"},
			"mine": map[string]any{"type": "quota.exceeded", "limit": 3, "message": "over quota"},
			"soft": "fail",
		}, res.Output)
		require.Equal(t, &store.ErrorInfo{Node: "sh", Type: "shell.exit", Message: "exit status 3: err",
			Data: map[string]any{"exit_code": 3, "stdout": "out", "stderr": "err"}}, res.Nodes["sh"].Error)
		require.Equal(t, &store.ErrorInfo{Node: "mine", Type: "quota.exceeded", Message: "over quota",
			Data: map[string]any{"limit": 3}}, res.Nodes["mine"].Error)
	})
}

// TestFailIsNotRetried: the fail action's error is the workflow's own
// decision, so a retry policy does not run it again; a typed failure of
// another kind it does.
func TestFailIsNotRetried(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		f := newRecFlow(t, st, nil, `name: noretry
nodes:
  - {id: stop, kind: Action, action: fail, params: {message: stop}, on_error: continue, retry: {max_attempts: 3, initial_interval: 1ms}}
  - {id: flaky, kind: Action, action: fail, params: {message: again, type: net.flaky}, on_error: continue, retry: {max_attempts: 3, initial_interval: 1ms}}
`)
		res := f.wait(f.start())
		require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
		require.Equal(t, 1, res.Nodes["stop"].Attempts)
		require.Equal(t, 3, res.Nodes["flaky"].Attempts)
		require.Equal(t, "net.flaky", res.Nodes["flaky"].Error.Type)
	})
}
