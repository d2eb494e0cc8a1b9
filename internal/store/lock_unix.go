//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

// errLocked reports that another process holds the lock.
var errLocked = errors.New("locked by another process")

// lockFile takes an exclusive, non-blocking advisory lock on f. Closing f
// releases it.
func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}
