//go:build !unix

package memo

import "os"

// tryLock only opens path: without flock, Badger's own directory lock is
// what keeps a second process out, with a less helpful message.
func tryLock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}
