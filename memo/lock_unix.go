//go:build unix

package memo

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// tryLock opens path and takes an exclusive flock on it without waiting.
// The kernel drops the lock when the process dies, so a kill -9 leaves no
// stale lock behind.
func tryLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, err
	}
	return f, nil
}
