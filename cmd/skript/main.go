// Command skript compiles and runs Skript workflows.
package main

import (
	"errors"
	"fmt"
	"os"
)

// exitError carries a process exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func exit(code int, err error) error { return &exitError{code: code, err: err} }

func main() {
	root := newRootCmd()
	err := root.Execute()
	if err == nil {
		return
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "skript:", ee.err)
		}
		os.Exit(ee.code)
	}
	// Cobra's own errors are usage errors: unknown flags, missing arguments.
	fmt.Fprintln(os.Stderr, "skript:", err)
	os.Exit(2)
}
