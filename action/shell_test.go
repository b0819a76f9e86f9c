//go:build unix

package action

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func runShellAction(t *testing.T, ctx context.Context, params map[string]any) (map[string]any, error) {
	t.Helper()
	out, err := invoke(t, ctx, Shell(ShellOptions{}), params)
	if out == nil {
		return nil, err
	}
	return out.(map[string]any), err
}

func TestShellCommand(t *testing.T) {
	out, err := runShellAction(t, context.Background(), map[string]any{"command": `printf 'a\nb\nc\n' | wc -l | tr -d ' '; echo warn >&2`})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"stdout": "3\n", "stderr": "warn\n", "exit_code": 0}, out)
}

func TestShellArgsWithoutShell(t *testing.T) {
	out, err := runShellAction(t, context.Background(), map[string]any{"args": []any{"echo", "x; not a shell", "$HOME"}})
	require.NoError(t, err)
	require.Equal(t, "x; not a shell $HOME\n", out["stdout"])

	_, err = runShellAction(t, context.Background(), map[string]any{"args": []any{"no-such-program-skript"}})
	require.ErrorContains(t, err, `shell: exec: "no-such-program-skript": executable file not found`)

	_, err = runShellAction(t, context.Background(), map[string]any{"args": []any{}})
	require.EqualError(t, err, "args: must name a program to run")
}

func TestShellEnvAndDir(t *testing.T) {
	dir := t.TempDir()
	out, err := runShellAction(t, context.Background(), map[string]any{
		"command": `echo "$SKRIPT_A/$SKRIPT_B"; command -v sh >/dev/null && echo inherited; pwd`,
		"env":     map[string]any{"SKRIPT_A": "one", "SKRIPT_B": 2},
		"dir":     dir,
	})
	require.NoError(t, err)
	want, err := filepath.EvalSymlinks(dir)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out["stdout"].(string)), "\n")
	require.Equal(t, []string{"one/2", "inherited", want}, lines, "env is added to the worker's, not instead of it")

	missing := filepath.Join(dir, "missing")
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"command": "true", "dir": missing}, fmt.Sprintf("shell: dir %q: no such file or directory", missing)},
		{map[string]any{"args": []any{"true"}, "dir": missing}, fmt.Sprintf("shell: dir %q: no such file or directory", missing)},
		{map[string]any{"command": "true", "dir": file}, fmt.Sprintf("shell: dir %q: not a directory", file)},
	} {
		_, err = runShellAction(t, context.Background(), tc.params)
		require.EqualError(t, err, tc.want)
	}
}

func TestShellNonZeroExit(t *testing.T) {
	_, err := runShellAction(t, context.Background(), map[string]any{"command": "echo partial; echo boom >&2; exit 3"})
	require.EqualError(t, err, "exit status 3: boom")

	_, err = runShellAction(t, context.Background(), map[string]any{"command": "echo only on stdout; exit 1"})
	require.EqualError(t, err, "exit status 1: only on stdout", "with stderr empty, the message quotes stdout")

	_, err = runShellAction(t, context.Background(), map[string]any{"command": "exit 4"})
	require.EqualError(t, err, "exit status 4")

	_, err = runShellAction(t, context.Background(), map[string]any{"command": `head -c 3000 /dev/zero | tr '\0' a >&2; echo END >&2; exit 2`})
	require.Error(t, err)
	msg := err.Error()
	require.True(t, strings.HasPrefix(msg, "exit status 2: ..."), msg)
	require.True(t, strings.HasSuffix(msg, "aaaaEND"), msg)
	require.Less(t, len(msg), 600, "only the end of stderr is quoted")

	_, err = runShellAction(t, context.Background(), map[string]any{"command": "kill -9 $$"})
	require.EqualError(t, err, "signal: killed")
}

func TestShellExactlyOneOfCommandAndArgs(t *testing.T) {
	a := Shell(ShellOptions{})
	_, err := a.Schema.Decode(map[string]any{"command": "ls", "args": []any{"ls"}})
	require.EqualError(t, err, "needs exactly one of command, args, got 2")
	_, err = a.Schema.Decode(map[string]any{"dir": "/"})
	require.EqualError(t, err, "needs exactly one of command, args, got none")
	_, err = a.Run(context.Background(), &Call{Params: map[string]any{}})
	require.EqualError(t, err, "needs exactly one of command, args")
	f, _ := a.Schema.Field("args")
	require.EqualError(t, f.CheckValue([]any{"echo", []any{}}), "must be a list of strings, got list at index 1")
}

func TestShellOutputCap(t *testing.T) {
	a := Shell(ShellOptions{MaxOutput: 10})
	params, err := a.Schema.Decode(map[string]any{"command": "printf 0123456789abcdef; printf 0123456789abcdef >&2"})
	require.NoError(t, err)
	var logs bytes.Buffer
	out, err := a.Run(context.Background(), &Call{Params: params, NodeID: "chatty", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	require.Equal(t, "0123456789", out.(map[string]any)["stdout"])
	require.Equal(t, "0123456789", out.(map[string]any)["stderr"])
	require.Contains(t, logs.String(), `level=WARN msg="shell output truncated" node=chatty stream=stdout limit="10 bytes" dropped_bytes=6`)
}

// TestShellCancelKillsChildren checks that cancelling kills the command's
// whole process group: killing only sh would leave `sleep` running and
// holding the output pipe, and the action would hang until it exits.
func TestShellCancelKillsChildren(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if b, err := os.ReadFile(pidFile); err == nil && strings.HasSuffix(string(b), "\n") {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	start := time.Now()
	_, err := runShellAction(t, ctx, map[string]any{"command": "sleep 10 & echo $! > " + pidFile + "; wait; echo never"})
	require.Less(t, time.Since(start), 1500*time.Millisecond, "well under the pipes' WaitDelay")
	require.ErrorIs(t, err, context.Canceled)
	require.EqualError(t, err, "shell: cancelled")

	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return !processAlive(pid) }, 2*time.Second, 10*time.Millisecond,
		"the sleep child %d must die with its shell", pid)
}

func TestShellTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := runShellAction(t, ctx, map[string]any{"command": "sleep 10; echo never"})
	require.Less(t, time.Since(start), 1500*time.Millisecond, "well under the pipes' WaitDelay")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.EqualError(t, err, "shell: timed out")
}

// processAlive reports whether pid runs; a zombie (dead, not yet reaped by
// whoever inherited it) counts as dead.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !os.IsNotExist(err) // no /proc (macOS): trust kill(0)
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) == 0 || fields[0] != "Z"
}

// lines is an action.Journal that keeps what it is given.
type lines []string

func (l *lines) Line(level, stream, message string) {
	*l = append(*l, level+"|"+stream+"|"+message)
}

// TestShellTailsGoToTheJournal: the end of each stream goes to the step's
// journal, cut to 4 KiB on a rune boundary, also when the command fails.
func TestShellTailsGoToTheJournal(t *testing.T) {
	var got lines
	c := &Call{Params: map[string]any{"command": `printf 'é%.0s' $(seq 3000); echo; echo oops >&2; exit 4`}, Journal: &got}
	_, err := Shell(ShellOptions{}).Run(context.Background(), c)
	require.ErrorContains(t, err, "exit status 4")
	require.Len(t, got, 2)
	out, ok := strings.CutPrefix(got[0], "|stdout|...")
	require.True(t, ok, got[0][:20])
	require.LessOrEqual(t, len(out)+3, 4096)
	require.Equal(t, strings.Repeat("é", (len(out)-1)/2)+"\n", out, "whole runes only")
	require.Equal(t, "|stderr|oops\n", got[1])

	got = nil
	_, err = Shell(ShellOptions{}).Run(context.Background(), &Call{Params: map[string]any{"command": "true"}, Journal: &got})
	require.NoError(t, err)
	require.Empty(t, got, "nothing written, nothing journaled")
}
