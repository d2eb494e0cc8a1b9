//go:build !unix

package store

import (
	"errors"
	"os"
)

// errLocked reports that another process holds the lock.
var errLocked = errors.New("locked by another process")

// lockFile does nothing where advisory file locks are not available: do not
// start two servers on one data directory there.
func lockFile(*os.File) error { return nil }
