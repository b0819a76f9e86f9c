//go:build !linux

package redistest

import "os/exec"

// setDeathSignal is Linux only; elsewhere the test's cleanups stop the server.
func setDeathSignal(*exec.Cmd) {}
