//go:build !unix

package action

import "os/exec"

// killProcessGroup keeps exec's default on systems without process groups:
// only the direct child is killed on cancellation, and WaitDelay stops a
// grandchild from holding the run up.
func killProcessGroup(cmd *exec.Cmd) {}
