package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var bin string

// TestMain builds the real binary once; every test runs it as a child
// process, the way users and CI do.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "skript-cli-")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "skript")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func skript(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "SKRIPT_STORE=")
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{code, out.String(), errb.String()}
}

func writeFlow(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flow.yaml")
	require.NoError(t, os.WriteFile(path, []byte(src), 0o600))
	return path
}

func TestRunExampleJSON(t *testing.T) {
	r := skript(t, "run", "../../examples/hello.yaml", "--output", "json", "--input", "who=tester")
	require.Equal(t, 0, r.code, r.stderr)
	var res struct {
		Status string         `json:"status"`
		Output map[string]any `json:"output"`
		Nodes  map[string]struct {
			Status   string `json:"status"`
			Started  string `json:"started_at"`
			Finished string `json:"finished_at"`
		} `json:"nodes"`
		Error any `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res), r.stdout)
	require.Equal(t, "succeeded", res.Status)
	require.Nil(t, res.Error)
	require.Equal(t, []any{"left", "right"}, res.Output["sides"])
	require.Equal(t, "succeeded", res.Nodes["greet"].Status)
	_, err := time.Parse(time.RFC3339Nano, res.Nodes["greet"].Finished)
	require.NoError(t, err)
	require.Contains(t, r.stderr, "hello tester")
}

func TestEveryExampleValidates(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	r := skript(t, append([]string{"validate"}, files...)...)
	require.Equal(t, 0, r.code, r.stderr)
}

func TestValidateReportsEveryErrorWithPositions(t *testing.T) {
	path := writeFlow(t, `name: broken
nodes:
  - {id: a, kind: Action, action: http_pst}
  - {id: a, kind: Action, action: noop}
  - {id: c, kind: Paralel, branches: []}
`)
	r := skript(t, "validate", path)
	require.Equal(t, 2, r.code)
	lines := regexp.MustCompile(`(?m)^\S*flow\.yaml:\d+:\d+: .*$`).FindAllString(r.stderr, -1)
	require.GreaterOrEqual(t, len(lines), 3, r.stderr)
	require.Contains(t, r.stderr, `did you mean "http_post"?`)
	require.Contains(t, r.stderr, `did you mean "Parallel"?`)
	require.NotContains(t, r.stderr, "goroutine", "no stack traces")
}

func TestExitCodes(t *testing.T) {
	failing := writeFlow(t, "name: f\nnodes:\n  - {id: x, kind: Action, action: fail, params: {message: nope}}\n")
	r := skript(t, "run", failing, "--output", "json")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stdout, `"node": "x"`)
	require.Contains(t, r.stdout, `"type": "fail"`, "the JSON output carries the error's type")

	needs := writeFlow(t, "name: n\ninputs:\n  id: {type: integer, required: true}\nnodes:\n  - {id: a, kind: Action, action: noop}\n")
	r = skript(t, "run", needs)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, `"id"`)
	r = skript(t, "run", needs, "--input", "id=abc")
	require.Equal(t, 2, r.code)
	r = skript(t, "run", needs, "--input", "id=3", "--input", "other=1")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "not declared")
	r = skript(t, "run", needs, "--input", "id=3")
	require.Equal(t, 0, r.code, r.stderr)

	require.Equal(t, 2, skript(t, "run").code, "missing argument")
	require.Equal(t, 2, skript(t, "run", needs, "--bogus").code, "unknown flag")
	require.Equal(t, 2, skript(t, "run", "/no/such/file.yaml").code)
	require.Equal(t, 2, skript(t, "run", needs, "--store", "ftp://x").code)
}

// An integer input keeps all its digits, given with --input or in an
// --input-file; one that does not fit in 64 bits is refused (exit 2)
// rather than rounded.
func TestIntegerInputsAreExact(t *testing.T) {
	flow := writeFlow(t, "name: ids\ninputs:\n  id: {type: integer, required: true}\nnodes:\n  - {id: a, kind: Action, action: set, params: {id: \"${{ input.id }}\", next: \"${{ input.id + 1 }}\"}}\n")
	file := func(src string) string {
		path := filepath.Join(t.TempDir(), "in.json")
		require.NoError(t, os.WriteFile(path, []byte(src), 0o600))
		return path
	}
	for _, args := range [][]string{
		{"--input", "id=12345678901234567"},
		{"--input-file", file(`{"id": 12345678901234567}`)},
	} {
		r := skript(t, append([]string{"run", flow, "--output", "json"}, args...)...)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, `"id": 12345678901234567,`)
		require.Contains(t, r.stdout, `"next": 12345678901234568`)
	}
	for _, args := range [][]string{
		{"--input", "id=9223372036854775808"},
		{"--input-file", file(`{"id": -9223372036854775809}`)},
		{"--input", "id=12345678901234567.0"},
	} {
		r := skript(t, append([]string{"run", flow}, args...)...)
		require.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
		require.Contains(t, r.stderr, `input "id": want integer`)
	}
	r := skript(t, "run", flow, "--input-file", file(`{"id": 1} trailing`))
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "want a JSON object")
}

func TestBadInputIsRefusedNotPanicking(t *testing.T) {
	// A "billion laughs" document: 12 levels of ten aliases each.
	var bomb strings.Builder
	bomb.WriteString("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		prev := fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&bomb, "l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(prev+", ", 10), ", "))
	}
	bomb.WriteString("name: bomb\nnodes: [{id: a, kind: Action, action: noop}]\n")
	src := bomb.String()
	r := skript(t, "validate", writeFlow(t, src))
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "alias bomb")
	require.NotContains(t, r.stderr, "goroutine")

	big := writeFlow(t, "name: big\nnodes: [{id: a, kind: Action, action: noop}]\n#"+strings.Repeat("x", 11<<20)+"\n")
	r = skript(t, "validate", big)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "limit")
}

func TestCompileEmits(t *testing.T) {
	for emit, want := range map[string]string{"text": "Fork", "json": `"Fork"`, "dot": "digraph", "mermaid": "flowchart"} {
		r := skript(t, "compile", "../../examples/seed.yaml", "--emit", emit)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, want, emit)
		require.Contains(t, r.stdout, "process_a", emit)
	}
	r := skript(t, "schema")
	require.Equal(t, 0, r.code)
	var schema map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &schema))
}

func TestDenyAction(t *testing.T) {
	path := writeFlow(t, "name: s\nnodes:\n  - {id: x, kind: Action, action: shell, params: {command: 'true'}}\n")
	r := skript(t, "validate", path, "--deny-action", "shell")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "shell")
}

// Ctrl-C cancels the run; the node that was running is reported cancelled.
func TestInterruptCancelsTheRun(t *testing.T) {
	for _, act := range []string{
		"{id: nap, kind: Action, action: sleep, params: {duration: 30s}}",
		`{id: nap, kind: Action, action: shell, params: {command: "sleep 30"}}`,
	} {
		path := writeFlow(t, "name: slow\nnodes:\n  - "+act+"\n")
		cmd := exec.Command(bin, "run", path, "--output", "json")
		var out bytes.Buffer
		cmd.Stdout = &out
		require.NoError(t, cmd.Start())
		time.Sleep(500 * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		err := cmd.Wait()
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "exit error: %v", err)
		require.Equal(t, 130, ee.ExitCode())
		var res struct {
			Status string `json:"status"`
			Nodes  map[string]struct {
				Status  string  `json:"status"`
				Started *string `json:"started_at"`
			} `json:"nodes"`
		}
		require.NoError(t, json.Unmarshal(out.Bytes(), &res), out.String())
		require.Equal(t, "cancelled", res.Status)
		require.Equal(t, "cancelled", res.Nodes["nap"].Status, out.String())
		require.NotNil(t, res.Nodes["nap"].Started)
	}
}

func TestActionsListsSchemas(t *testing.T) {
	r := skript(t, "actions")
	require.Equal(t, 0, r.code, r.stderr)
	for _, want := range []string{"http_post", "allow_status   list of integer", "exactly one of: command, args", "msg            string             required"} {
		require.Contains(t, r.stdout, want)
	}
	require.Equal(t, 2, skript(t, "actions", "bogus").code)
}

// TestRunShowsVersion: the workflow's version is in the run's JSON result,
// next to the workflow's name, and in the text summary; a workflow without
// one keeps the documented shape.
func TestRunShowsVersion(t *testing.T) {
	versioned := writeFlow(t, "name: v\nversion: \"3\"\nnodes:\n  - {id: a, kind: Action, action: noop}\n")
	r := skript(t, "run", versioned, "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res), r.stdout)
	require.Equal(t, "v", res["workflow"])
	require.Equal(t, "3", res["version"])

	r = skript(t, "run", versioned)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `(?m)^run \S+ \(v version 3\) succeeded`, r.stdout)

	plain := writeFlow(t, "name: p\nnodes:\n  - {id: a, kind: Action, action: noop}\n")
	r = skript(t, "run", plain, "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	res = nil
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res), r.stdout)
	require.NotContains(t, res, "version")
	r = skript(t, "run", plain)
	require.Regexp(t, `(?m)^run \S+ \(p\) succeeded`, r.stdout)
}

// TestVersionNamesTheCommit: a build that carries no VCS data (such as
// with GOFLAGS=-buildvcs=false) names its commit given with -ldflags, the
// way the Makefile builds it.
func TestVersionNamesTheCommit(t *testing.T) {
	b := filepath.Join(t.TempDir(), "skript")
	out, err := exec.Command("go", "build", "-ldflags", "-X main.version=1.2.0 -X main.commit=abc1234-dirty", "-o", b, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	out, err = exec.Command(b, "--version").Output()
	require.NoError(t, err)
	require.Contains(t, string(out), "1.2.0 (commit abc1234-dirty")
}

// TestRunWorkersZeroOnMemoryIsRefused: with the memory store no other
// process could run the tasks, so the run would hang.
func TestRunWorkersZeroOnMemoryIsRefused(t *testing.T) {
	flow := writeFlow(t, "name: w\nnodes:\n  - {id: a, kind: Action, action: noop}\n")
	r := skript(t, "run", flow, "--workers", "0")
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "--workers 0 needs a shared store")
	r = skript(t, "run", flow, "--workers", "-1")
	require.Equal(t, 2, r.code, r.stderr)
}

// TestInputFileIsBounded: a device that never ends is refused at the
// limit instead of being read until memory runs out.
func TestInputFileIsBounded(t *testing.T) {
	flow := writeFlow(t, "name: w\nnodes:\n  - {id: a, kind: Action, action: noop}\n")
	r := skript(t, "run", flow, "--input-file", "/dev/zero")
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "10 MiB")
}

// TestHelpShowsWhatApplies: bench's help gives its own retention default,
// and status and cancel, which run no tasks, do not offer worker flags.
func TestHelpShowsWhatApplies(t *testing.T) {
	r := skript(t, "bench", "--help")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "(default 10m on Redis, 100ms in memory)")
	require.NotContains(t, r.stdout, "168h")
	for _, c := range []string{"status", "cancel"} {
		r := skript(t, c, "--help")
		require.Equal(t, 0, r.code, r.stderr)
		require.NotContains(t, r.stdout, "--lease", c)
		require.NotContains(t, r.stdout, "--max-deliveries", c)
		require.Contains(t, r.stdout, "--store", c)
	}
	status := skript(t, "status", "--help").stdout
	require.NotContains(t, status, "--retention")
	require.NotContains(t, status, "--allow-eviction", "status is read-only: it skips the eviction check")
}
