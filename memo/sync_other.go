//go:build !linux

package memo

import "os"

func syncData(f *os.File) error { return f.Sync() }
