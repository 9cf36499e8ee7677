package memo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// logDirName is the folder of the results log inside the store: numbered
// segment files, one or more per process that wrote, oldest first.
const logDirName = "log"

const segmentExt = ".log"

// segmentSize is where the writer starts a new segment, so that a fold
// (fold.go) handles one bounded file at a time.
const segmentSize = 64 << 20

func segmentName(id uint32) string { return fmt.Sprintf("%08d%s", id, segmentExt) }

// segment is one file of the results log. A segment written by an earlier
// process is mapped read-only, whole; the one this process writes is read
// back through its file. Either lives until the store closes, even once
// folded and removed, so that a lookup holding its location never reads
// freed memory.
type segment struct {
	id    uint32
	path  string
	data  []byte   // an earlier process's segment
	f     *os.File // this process's segment
	unmap func() error

	// Under the store's segMu.
	sealed bool // written in full: a fold may take it
	folded bool // in Badger now, and its file removed
}

// read returns the n bytes at off. With data they alias it; from a file
// they are a fresh copy.
func (s *segment) read(off int64, n uint32) ([]byte, error) {
	if s.data != nil {
		if off < 0 || off+int64(n) > int64(len(s.data)) {
			return nil, fmt.Errorf("%w: record at %d+%d past the end of %s", errCorrupt, off, n, s.path)
		}
		return s.data[off : off+int64(n)], nil
	}
	b := make([]byte, n)
	if _, err := s.f.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("read %s: %w", s.path, err)
	}
	return b, nil
}

// contents returns the whole segment, for a fold.
func (s *segment) contents() ([]byte, error) {
	if s.data != nil {
		return s.data, nil
	}
	return os.ReadFile(s.path)
}

func (s *segment) close() error {
	var err error
	if s.unmap != nil {
		err = s.unmap()
	}
	if s.f != nil {
		if cerr := s.f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// listSegments returns the ids of the segments in dir, oldest first. A
// missing dir is an empty log; other files are left alone.
func listSegments(dir string) ([]uint32, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []uint32
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), segmentExt)
		if !ok || de.IsDir() {
			continue
		}
		id, err := strconv.ParseUint(name, 10, 32)
		if err != nil {
			continue
		}
		ids = append(ids, uint32(id))
	}
	slices.Sort(ids)
	return ids, nil
}

// openSegment maps an earlier process's segment.
func openSegment(dir string, id uint32) (*segment, error) {
	path := filepath.Join(dir, segmentName(id))
	data, unmap, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results log %s: %w", path, err)
	}
	return &segment{id: id, path: path, data: data, unmap: unmap}, nil
}

// createSegment creates the segment this process writes. Its name is made
// durable before any record in it is reported durable.
func createSegment(dir string, id uint32) (*segment, error) {
	switch err := os.Mkdir(dir, 0o755); {
	case err == nil:
		// A new folder is durable once its parent's entry for it is.
		if err := syncDir(filepath.Dir(dir)); err != nil {
			return nil, err
		}
	case !errors.Is(err, fs.ErrExist):
		return nil, err
	}
	path := filepath.Join(dir, segmentName(id))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return &segment{id: id, path: path, f: f}, nil
}
