package action

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	defaultMaxOutput = 10 << 20 // 10 MiB per stream
	// stderrTail is how much of the end of the output a failure message
	// quotes: the last lines are where a command says why it failed.
	stderrTail = 500
	// journalTail is how much of the end of each stream the run's journal
	// keeps: enough for a build's last errors, bounded for the store.
	journalTail = 4 << 10
	// shellWaitDelay bounds how long a cancelled or finished command may
	// keep its output pipes open (a daemonized grandchild) before they are
	// closed and the action returns anyway.
	shellWaitDelay = 2 * time.Second
)

// ShellOptions configures the shell action. The zero value gives the
// defaults that Builtins uses.
type ShellOptions struct {
	// MaxOutput caps the stdout and the stderr kept, each, so a chatty
	// command cannot exhaust a worker's memory or the store; the command
	// still runs to its end. Zero means 10 MiB, negative no limit.
	MaxOutput int64
	// PassEnv names worker environment variables the commands see besides
	// PATH, HOME, USER, LOGNAME, LANG, LANGUAGE, LC_*, TZ and TMPDIR (a
	// name ending in '*' selects a prefix; "*" all of them). Nothing else
	// of the worker's environment reaches a command: it holds the store
	// URL, often with a password, and whatever credentials the host has.
	PassEnv []string
}

// Shell returns the `shell` action: it runs `command` with /bin/sh -c, or
// `args` directly with no shell (no quoting pitfalls when values come from
// expressions), in a minimal environment plus `env` (see
// ShellOptions.PassEnv), and outputs {stdout, stderr, exit_code}. A non-zero exit
// fails the node with the exit code and the end of stderr in the message.
// The last 4 KiB of each stream also go to the run's journal, whatever
// the outcome.
// On cancellation the command's whole process group is killed.
func Shell(opts ShellOptions) Action {
	maxOut := opts.MaxOutput
	if maxOut == 0 {
		maxOut = defaultMaxOutput
	}
	pass := append([]string(nil), opts.PassEnv...)
	return Action{
		Name: "shell",
		Doc:  "Runs a command; outputs {stdout, stderr, exit_code}; a non-zero exit fails.",
		Schema: Schema{
			Fields: []Field{
				{Name: "command", Type: String, Doc: "a command line run by /bin/sh -c"},
				{Name: "args", Type: List, Elem: String, Doc: "a program and its arguments, run without a shell"},
				{Name: "env", Type: Map, Elem: String, Doc: "variables for the command, added to a minimal environment; the safe way to pass values to command"},
				{Name: "dir", Type: String, Doc: "the working directory"},
			},
			OneOf: [][]string{{"command", "args"}},
		},
		Run: func(ctx context.Context, c *Call) (any, error) {
			return runShell(ctx, c, maxOut, pass)
		},
	}
}

// checkDir refuses a working directory that cannot be used before the
// command starts: exec reports a missing one as a failure to start the
// program ("fork/exec /bin/sh: no such file or directory"), which reads as
// if the shell were missing.
func checkDir(dir string) error {
	if dir == "" {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("shell: dir %q: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("shell: dir %q: not a directory", dir)
	}
	return nil
}

func runShell(ctx context.Context, c *Call, maxOut int64, pass []string) (any, error) {
	p := c.Params
	cmdLine, hasCmd := p["command"]
	argList, hasArgs := p["args"]
	hasCmd, hasArgs = hasCmd && cmdLine != nil, hasArgs && argList != nil
	if hasCmd == hasArgs {
		return nil, errors.New("needs exactly one of command, args")
	}

	var cmd *exec.Cmd
	if hasCmd {
		s, _ := toString(cmdLine)
		cmd = exec.CommandContext(ctx, "/bin/sh", "-c", s)
	} else {
		l, err := coerceType(List, String, argList)
		if err != nil {
			return nil, &ParamError{Param: "args", Err: err}
		}
		argv := make([]string, 0, len(l.([]any)))
		for _, a := range l.([]any) {
			argv = append(argv, a.(string))
		}
		if len(argv) == 0 || argv[0] == "" {
			return nil, &ParamError{Param: "args", Err: errors.New("must name a program to run")}
		}
		cmd = exec.CommandContext(ctx, argv[0], argv[1:]...)
	}
	cmd.Dir = stringParam(p, "dir")
	if err := checkDir(cmd.Dir); err != nil {
		return nil, err
	}
	env, _ := p["env"].(map[string]any)
	cmd.Env = shellEnv(os.Environ(), pass, env)
	stdout := &cappedBuffer{max: maxOut}
	stderr := &cappedBuffer{max: maxOut}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = shellWaitDelay
	killProcessGroup(cmd)

	err := cmd.Run()
	// The tails go to the journal whatever the outcome: a failed or timed
	// out command's output is what tells why.
	for _, s := range []struct {
		name string
		buf  *cappedBuffer
	}{{"stdout", stdout}, {"stderr", stderr}} {
		if t := tailOf(s.buf.buf.Bytes(), journalTail); t != "" {
			c.JournalLine("", s.name, t)
		}
	}
	if err != nil && ctx.Err() != nil {
		return nil, interrupted(ctx, "shell")
	}
	for _, s := range []struct {
		name string
		buf  *cappedBuffer
	}{{"stdout", stdout}, {"stderr", stderr}} {
		if s.buf.dropped > 0 {
			c.logger().Warn("shell output truncated", "node", c.NodeID, "stream", s.name,
				"limit", byteSize(maxOut), "dropped_bytes", s.buf.dropped)
		}
	}

	code := 0
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		msg := exitErr.Error() // "exit status 3" or "signal: killed"
		tail := stderr.buf.Bytes()
		if len(bytes.TrimSpace(tail)) == 0 {
			tail = stdout.buf.Bytes() // some tools report failures on stdout
		}
		if t := lastBytes(tail, stderrTail); t != "" {
			msg += ": " + t
		}
		return nil, &Error{Type: ErrShellExit, Message: msg, Data: map[string]any{
			"exit_code": exitErr.ExitCode(),
			"stdout":    lastBytes(stdout.buf.Bytes(), stderrTail),
			"stderr":    lastBytes(stderr.buf.Bytes(), stderrTail),
		}}
	case errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success():
		// The command succeeded but left a background process holding its
		// output open; what it wrote so far is the output.
	default:
		return nil, fmt.Errorf("shell: %w", err)
	}
	return map[string]any{
		"stdout":    stdout.buf.String(),
		"stderr":    stderr.buf.String(),
		"exit_code": code,
	}, nil
}

// cappedBuffer keeps the first max bytes written and counts the rest, and
// never fails a write: failing would break the command's pipe and change
// how it behaves.
type cappedBuffer struct {
	buf     bytes.Buffer
	max     int64
	dropped int64
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.max < 0 {
		return b.buf.Write(p)
	}
	room := b.max - int64(b.buf.Len())
	keep := int64(len(p))
	if keep > room {
		keep = max(room, 0)
	}
	b.buf.Write(p[:keep])
	b.dropped += int64(len(p)) - keep
	return len(p), nil
}

// tailOf returns the last n bytes of data or fewer, starting on a rune
// boundary, marked with "..." when cut.
func tailOf(data []byte, n int) string {
	if len(data) <= n {
		return string(data)
	}
	data = data[len(data)-n+3:]
	for len(data) > 0 && !utf8.RuneStart(data[0]) {
		data = data[1:]
	}
	return "..." + string(data)
}

// lastBytes returns about the last n bytes of data, starting on a rune
// boundary, trimmed.
func lastBytes(data []byte, n int) string {
	data = bytes.TrimSpace(data)
	if len(data) > n {
		data = data[len(data)-n:]
		for len(data) > 0 && !utf8.RuneStart(data[0]) {
			data = data[1:]
		}
		return "..." + strings.TrimLeft(string(data), " \t\r\n")
	}
	return string(data)
}
