package memo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// GC gives back the disk space of deleted and replaced entries. It first
// folds the whole results log into the database, then compacts the whole
// LSM tree into one level, which drops old versions and
// delete markers and tells the value log which of its records are dead,
// then rewrites value-log files until Badger finds none worth rewriting.
//
// Entries changed since the store was opened may still sit in the memtable,
// out of compaction's reach; `starflow memo gc` opens the store afresh, so
// it sees everything earlier runs wrote.
func (b *Badger) GC(ctx context.Context) error {
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	if err := b.journal.roll(); err != nil {
		return fmt.Errorf("memo gc %s: %w", b.dir, err)
	}
	if err := b.foldSealed(ctx); err != nil {
		return fmt.Errorf("memo gc %s: %w", b.dir, err)
	}
	if err := b.db.Flatten(2); err != nil {
		return fmt.Errorf("memo gc %s: compact: %w", b.dir, err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// 0.5: rewrite a value-log file when half of it is dead, Badger's
		// recommended trade of disk for rewrite work.
		err := b.db.RunValueLogGC(0.5)
		if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("memo gc %s: value log: %w", b.dir, err)
		}
	}
}

// Stats describes a store for `starflow memo stats`.
type Stats struct {
	Entries    int
	Damaged    int            // entries that fail their checksum
	Apps       map[string]int // entries per app
	ValueBytes int64          // the sum of the entries' Value lengths

	// Space taken on disk, by kind of file.
	LSMBytes   int64 // sorted tables: keys and small results
	VlogBytes  int64 // value log: large results
	OtherBytes int64 // the results log, Badger's memtable logs and manifest, starflow's own files
}

// DiskBytes is all the space the store takes on disk.
func (s Stats) DiskBytes() int64 { return s.LSMBytes + s.VlogBytes + s.OtherBytes }

// Stats counts the entries (reading every one) and measures the files.
func (b *Badger) Stats(ctx context.Context) (Stats, error) {
	if err := b.enter(); err != nil {
		return Stats{}, err
	}
	defer b.leave()
	s := Stats{Apps: make(map[string]int)}
	err := b.scan(ctx, func(e Entry, err error) error {
		if err != nil {
			s.Damaged++
			return nil
		}
		s.Entries++
		s.Apps[e.App]++
		s.ValueBytes += int64(len(e.Value))
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("memo stats %s: %w", b.dir, err)
	}
	s.LSMBytes, s.VlogBytes, s.OtherBytes, err = diskUsage(b.dir)
	if err != nil {
		return Stats{}, fmt.Errorf("memo stats %s: %w", b.dir, err)
	}
	return s, nil
}

// diskUsage sums the space the files under dir take, split as Stats says.
// It counts allocated blocks where the system reports them: Badger sizes
// its memtable and value-log files up front and fills them as it goes, so
// their length overstates what they hold.
func diskUsage(dir string) (lsm, vlog, other int64, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n := allocated(fi)
		switch {
		case strings.HasSuffix(path, ".sst"):
			lsm += n
		case strings.HasSuffix(path, ".vlog"):
			vlog += n
		default:
			other += n
		}
		return nil
	})
	return lsm, vlog, other, err
}
