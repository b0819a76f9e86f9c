package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store/redis/redistest"
)

// A misspelt --deny-action is a usage error, not a setting that silently
// leaves the action allowed; a denied action is reported as denied.
func TestDenyActionNames(t *testing.T) {
	flow := writeFlow(t, "name: s\nnodes:\n  - {id: x, kind: Action, action: shell, params: {command: 'true'}}\n")
	for _, name := range []string{"shel", "Shell"} {
		for _, cmd := range [][]string{{"validate", flow}, {"run", flow}, {"worker", "--store", "redis://127.0.0.1:1/0"}} {
			r := skript(t, append(cmd, "--deny-action", name)...)
			require.Equal(t, 2, r.code, "%v %s: %s", cmd, name, r.stderr)
			require.Contains(t, r.stderr, fmt.Sprintf(`cannot deny unknown action %q; did you mean "shell"?`, name))
		}
	}
	r := skript(t, "run", flow, "--deny-action", "sleep,shell")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, flow+`:3:35: action "shell" is denied on this host (--deny-action)`)
}

// On a shared store, a worker that denies an action hands its tasks back
// instead of failing them: the run waits for a worker that allows it.
func TestDeniedActionWaitsForAWorkerThatAllowsIt(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	denying := startWorker(t, url, "--deny-action", "shell")
	flow := writeFlow(t, `name: mixed
nodes:
  - {id: first, kind: Action, action: set, params: {v: 1}}
  - id: fan
    kind: Loop
    for_each: "0..3"
    concurrency: 0
    body:
      - {id: sh, kind: Action, action: shell, params: {command: 'echo "$N"', env: {N: "${{ item }}"}}}
output: "${{ map(nodes.fan.output, trim(#.stdout)) }}"
`)
	r := skript(t, "submit", flow, "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.TrimSpace(r.stdout)

	// The denying worker alone: the shell tasks go back and forth, and
	// the run goes on waiting rather than failing.
	time.Sleep(2500 * time.Millisecond)
	r = skript(t, "status", id, "--store", url, "--output", "json")
	var st statusOut
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &st), r.stdout)
	require.Equal(t, "running", st.Status, "%v", st.Error)

	startWorker(t, url)
	r = skript(t, "status", id, "--store", url, "--wait", "--output", "json")
	require.Equal(t, 0, r.code, r.stdout)
	var res struct {
		Output []string `json:"output"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res), r.stdout)
	require.Equal(t, []string{"0", "1", "2", "3"}, res.Output)
	require.NoError(t, denying.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, <-denying.exited)
	denying.exited <- nil // for the cleanup
	require.Equal(t, 1, strings.Count(denying.stderr.String(), "action denied on this worker"),
		"said once per action: %s", denying.stderr.String())
}

// A value reaches a command through env as data: an input that would be a
// second command if pasted into the command line is only echoed, and
// pasting it is refused with the fix in the message.
func TestShellInputIsNotInjected(t *testing.T) {
	dir := t.TempDir()
	safe := writeFlow(t, `name: greet
inputs: {name: {type: string}, dir: {type: string}}
nodes:
  - {id: hi, kind: Action, action: shell, params: {command: 'echo "hello $NAME"', env: {NAME: "${{ input.name }}"}, dir: "${{ input.dir }}"}}
output: "${{ nodes.hi.output.stdout }}"
`)
	r := skript(t, "run", safe, "--input", "name=x; touch pwned", "--input", "dir="+dir, "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	var res struct {
		Output string `json:"output"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res), r.stdout)
	require.Equal(t, "hello x; touch pwned\n", res.Output)
	require.NoFileExists(t, filepath.Join(dir, "pwned"))

	pasted := writeFlow(t, `name: greet
inputs: {name: {type: string}}
nodes:
  - {id: hi, kind: Action, action: shell, params: {command: "echo hello ${{ input.name }}"}}
`)
	r = skript(t, "run", pasted, "--input", "name=x; touch pwned")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, pasted+`:4:61: shell.command must not embed ${{ }}: pass the value through env (env: {NAME: "${{ input.name }}"}) and use "$NAME" in the command`)
}

// A command does not see the worker's environment (its store URL, other
// secrets), only a minimal one, plus what --shell-env passes on.
func TestShellSeesAMinimalEnvironment(t *testing.T) {
	flow := writeFlow(t, "name: env\nnodes:\n  - {id: e, kind: Action, action: shell, params: {args: [env]}}\noutput: \"${{ nodes.e.output.stdout }}\"\n")
	run := func(args ...string) map[string]bool {
		cmd := exec.Command(bin, append([]string{"run", flow, "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(), "SKRIPT_STORE=memory", "SKRIPT_TEST_SECRET=hunter2", "SKRIPT_TEST_TOKEN=t")
		out, err := cmd.Output()
		require.NoError(t, err)
		var res struct {
			Output string `json:"output"`
		}
		require.NoError(t, json.Unmarshal(out, &res), string(out))
		names := map[string]bool{}
		for _, line := range strings.Split(res.Output, "\n") {
			if k, _, ok := strings.Cut(line, "="); ok {
				names[k] = true
			}
		}
		return names
	}
	names := run()
	require.True(t, names["PATH"])
	require.False(t, names["SKRIPT_STORE"])
	require.False(t, names["SKRIPT_TEST_SECRET"])

	names = run("--shell-env", "SKRIPT_TEST_SECRET", "--shell-env", "SKRIPT_TEST_T*")
	require.True(t, names["SKRIPT_TEST_SECRET"])
	require.True(t, names["SKRIPT_TEST_TOKEN"])
	require.False(t, names["SKRIPT_STORE"])
}

// --http-deny-private refuses a loopback server that is reachable without it.
func TestHTTPDenyPrivateFlag(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("reached"))
	}))
	defer srv.Close()
	flow := writeFlow(t, "name: h\nnodes:\n  - {id: get, kind: Action, action: http, params: {url: \""+srv.URL+"/x\"}}\n")
	r := skript(t, "run", flow)
	require.Equal(t, 0, r.code, r.stderr)
	r = skript(t, "run", flow, "--http-deny-private")
	require.Equal(t, 1, r.code, r.stderr)
	require.Contains(t, r.stdout, "loopback")
	require.Contains(t, r.stdout, "--http-deny-private")
}
