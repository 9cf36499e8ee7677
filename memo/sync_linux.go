package memo

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncData makes what was written to f durable. fdatasync skips the inode
// times an fsync would also write; the file's new length, which a reader
// needs, it writes anyway.
func syncData(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}
