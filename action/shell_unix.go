//go:build unix

package action

import (
	"os/exec"
	"syscall"
)

// killProcessGroup puts the command in its own process group and makes
// cancellation kill the whole group: `sh -c "sleep 10; ..."` forks children
// that killing sh alone would leave running, holding the output pipes open.
func killProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
