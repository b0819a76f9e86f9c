package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWasmMatchesCLI validates every case of the conformance suite with the
// compiler built for the browser (run by Node, as a page runs it) and with
// `skript validate`, and wants the same positioned errors from both.
func TestWasmMatchesCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the compiler for WebAssembly")
	}
	cases, _ := filepath.Glob("../../../shared/conformance/cases/*.yaml")
	if len(cases) == 0 {
		t.Fatal("no conformance cases at ../shared/conformance/cases")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed to run the WebAssembly compiler: apt-get install nodejs")
	}
	dir := t.TempDir()
	goroot := strings.TrimSpace(run(t, nil, "go", "env", "GOROOT"))
	wasm := filepath.Join(dir, "skript.wasm")
	run(t, []string{"GOOS=js", "GOARCH=wasm"}, "go", "build", "-o", wasm, ".")
	cli := filepath.Join(dir, "skript")
	run(t, nil, "go", "build", "-o", cli, "../skript")

	// The suite runs each case as flow.yaml; so do both sides here.
	var files []string
	for _, c := range cases {
		src, err := os.ReadFile(c)
		if err != nil {
			t.Fatal(err)
		}
		d := filepath.Join(dir, strings.TrimSuffix(filepath.Base(c), ".yaml"))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(d, "flow.yaml")
		if err := os.WriteFile(f, src, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	args := append([]string{"testdata/driver.cjs", filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"), wasm, "flow.yaml"}, files...)
	var got map[string]Result
	if err := json.Unmarshal([]byte(run(t, nil, node, args...)), &got); err != nil {
		t.Fatal(err)
	}
	withErrors := 0
	for _, f := range files {
		cmd := exec.Command(cli, "validate", "flow.yaml")
		cmd.Dir = filepath.Dir(f)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		_ = cmd.Run() // exit 2 on errors: compared through the output
		var want []string
		for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
			if l != "" && !strings.HasSuffix(l, " error") && !strings.HasSuffix(l, " errors") {
				want = append(want, l)
			}
		}
		var have []string
		for _, p := range got[f].Errors {
			have = append(have, p.Text)
		}
		if strings.Join(have, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\nwasm: %q\ncli:  %q", filepath.Base(filepath.Dir(f)), have, want)
		}
		if len(want) > 0 {
			withErrors++
		}
		if got[f].Graph == nil && len(want) == 0 {
			t.Errorf("%s: valid but no graph", filepath.Base(filepath.Dir(f)))
		}
	}
	if withErrors == 0 {
		t.Error("no case had errors: the comparison checked nothing")
	}
	t.Logf("%d cases, %d with errors, the same from both", len(files), withErrors)
}

func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
	}
	return out.String()
}
