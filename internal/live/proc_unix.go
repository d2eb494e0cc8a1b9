//go:build unix

package live

import (
	"os"
	"os/exec"
	"syscall"
)

// detach puts ffmpeg in its own process group, so that a Ctrl-C at the
// server's terminal reaches the server, which then stops the stream,
// rather than ffmpeg directly.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// interrupt asks ffmpeg to finish its output and exit.
func interrupt(p *os.Process) error { return p.Signal(os.Interrupt) }
