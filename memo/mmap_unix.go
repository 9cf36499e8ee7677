//go:build unix

package memo

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps a file read-only: a segment is read at open to index it and
// again on every hit, and a mapping does both without copying it onto the
// heap. The store's lock keeps anyone from truncating it meanwhile.
func mapFile(path string) ([]byte, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if fi.Size() == 0 {
		return []byte{}, nil, nil
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, func() error { return unix.Munmap(data) }, nil
}
