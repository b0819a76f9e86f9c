package runtime_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/runtime"
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

// TestFailIsRetriedOnlyWhenAsked: the fail action's error is the
// workflow's own decision, so the workflow's default retry does not run it
// again; the fail node's own retry does, as does any retry a typed failure
// of another kind.
func TestFailIsRetriedOnlyWhenAsked(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		f := newRecFlow(t, st, nil, `name: noretry
defaults:
  retry: {max_attempts: 3, initial_interval: 1ms}
nodes:
  - {id: stop, kind: Action, action: fail, params: {message: stop}, on_error: continue}
  - {id: asked, kind: Action, action: fail, params: {message: stop}, on_error: continue, retry: {max_attempts: 3, initial_interval: 1ms}}
  - {id: flaky, kind: Action, action: fail, params: {message: again, type: net.flaky}, on_error: continue, retry: {max_attempts: 3, initial_interval: 1ms}}
`)
		res := f.wait(f.start())
		require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
		require.Equal(t, 1, res.Nodes["stop"].Attempts)
		require.Equal(t, 3, res.Nodes["asked"].Attempts)
		require.Equal(t, 3, res.Nodes["flaky"].Attempts)
		require.Equal(t, "net.flaky", res.Nodes["flaky"].Error.Type)
	})
}

// TestRetryFilters: a retry runs again only the failures its filter
// names: by type (errors, except) or by a condition over error and
// attempt; fail is retried only when named.
func TestRetryFilters(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		src := `name: filters
nodes:
  - id: server
    kind: Action
    action: shell
    params: {command: "exit 75"}
    retry: {max_attempts: 4, initial_interval: 1ms, when: "error.exit_code == 75 && attempt < 3"}
    on_error: continue
  - id: client
    kind: Action
    action: shell
    params: {command: "exit 2"}
    retry: {max_attempts: 4, initial_interval: 1ms, when: "error.exit_code == 75"}
    on_error: continue
  - id: listed
    kind: Action
    action: fail
    params: {message: asked for}
    retry: {max_attempts: 3, initial_interval: 1ms, errors: [fail]}
    on_error: continue
  - id: other
    kind: Action
    action: shell
    params: {command: "exit 1"}
    retry: {max_attempts: 3, initial_interval: 1ms, errors: [timeout]}
    on_error: continue
  - id: excepted
    kind: Action
    action: shell
    params: {command: "exit 1"}
    retry: {max_attempts: 3, initial_interval: 1ms, except: [shell.exit]}
    on_error: continue
`
		// The same attempts under every optimizer setting: the passes
		// keep a retry's condition with its step.
		for name, opts := range optSettings() {
			opts.Registry = action.Builtins()
			bp, errs := compiler.Compile("flow.yaml", []byte(src), opts)
			require.Empty(t, errs)
			eng := runtime.New(runtime.WithStore(st), runtime.WithRegistry(opts.Registry))
			res := runWith(t, eng, runtime.WorkerOptions{Grace: time.Second}, bp, nil)
			require.Equal(t, store.Succeeded, res.Status, "%s: %+v", name, res.Error)
			for node, want := range map[string]int{"server": 3, "client": 1, "listed": 3, "other": 1, "excepted": 1} {
				require.Equal(t, want, res.Nodes[node].Attempts, "%s: %s", name, node)
			}
		}
	})
}
