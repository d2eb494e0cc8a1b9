//go:build !unix

package live

import (
	"os"
	"os/exec"
)

func detach(*exec.Cmd) {}

// interrupt kills ffmpeg where there is no SIGINT.
func interrupt(p *os.Process) error { return p.Kill() }
