//go:build linux || darwin || freebsd || netbsd || openbsd

package memo

import (
	"os"
	"syscall"
)

// allocated is the space a file takes on disk, which for a sparse file is
// less than its length.
func allocated(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}
