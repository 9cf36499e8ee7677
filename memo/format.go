package memo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// formatFile records the store's on-disk format outside Badger, so that a
// future format (another key layout, another Badger major version) is
// recognised before Badger is asked to open files it may not understand.
const formatFile = "FORMAT"

// FormatVersion is the store format this starflow writes and reads.
// Format 2 added the results log (log/*.log), which a starflow that reads
// format 1 would not see: it would run again what the log holds, or worse,
// return entries the log has deleted.
const FormatVersion = 2

const formatMagic = "starflow memo store"

// FormatError says the store was written in a format this starflow cannot
// read.
type FormatError struct {
	Dir     string
	Version int
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("memo store %s has format version %d, newer than the %d this starflow reads: upgrade starflow or use --memo-dir",
		e.Dir, e.Version, FormatVersion)
}

// checkFormat reads the store's format record, writing it into a new
// store. It runs under the store's lock.
func checkFormat(dir string) error {
	path := filepath.Join(dir, formatFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return writeFormat(path)
	}
	if err != nil {
		return fmt.Errorf("memo store %s: %w", dir, err)
	}
	v, err := parseFormat(string(b))
	if err != nil {
		return fmt.Errorf("memo store %s: %s: %w", dir, formatFile, err)
	}
	if v > FormatVersion {
		return &FormatError{Dir: dir, Version: v}
	}
	if v < FormatVersion {
		// An older store is readable as it is; from now on it may hold a
		// log, which older starflows must refuse.
		return writeFormat(path)
	}
	return nil
}

func parseFormat(s string) (int, error) {
	magic, rest, _ := strings.Cut(s, "\n")
	if magic != formatMagic {
		return 0, fmt.Errorf("not a starflow memo store (first line %q)", magic)
	}
	f := strings.Fields(rest)
	if len(f) != 2 || f[0] != "format" {
		return 0, fmt.Errorf("want a line %q, got %q", "format N", strings.TrimSpace(rest))
	}
	v, err := strconv.Atoi(f[1])
	if err != nil || v < 1 {
		return 0, fmt.Errorf("bad format version %q", f[1])
	}
	return v, nil
}

// writeFormat writes the record through a temporary file and a rename, so
// that a crash leaves either no record or a whole one.
func writeFormat(path string) error {
	tmp := path + ".tmp"
	content := fmt.Sprintf("%s\nformat %d\n", formatMagic, FormatVersion)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("memo store %s: write %s: %w", filepath.Dir(path), formatFile, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// Some file systems cannot sync a directory; the rename is then as
	// durable as they make it.
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
