package memo

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/dgraph-io/badger/v4"
)

// Folding moves the results log into Badger: each segment's latest record
// per key becomes a Badger write, many to a transaction, and the segment
// file goes once Badger has them durably (the database syncs every
// commit). Until then the log's index shadows Badger, so a lookup finds
// the same entry before, during and after a fold.
//
// Segments are folded oldest first and removed oldest first, each removal
// made durable before the next: after a crash the log left is a suffix of
// what was folded, whose records are all at least as new as Badger's, so
// folding them again changes nothing. A fold cut short (by Close) leaves
// its segment in place, to be folded again.
//
// When: a run folds nothing it wrote itself, since a fold costs as much
// CPU as the writes it saves the run from. A store opened with more log
// than foldBytes (or more segments than foldSegments) folds the log it
// found in the background, and `starflow memo gc` folds all of it.
const (
	foldBytes    = 32 << 20
	foldSegments = 16
)

// foldPolicy is when an open folds the log it finds: past either bound.
type foldPolicy struct {
	bytes    int64
	segments int
}

func (b *Badger) addSegment(s *segment) {
	b.segMu.Lock()
	defer b.segMu.Unlock()
	b.segs[s.id] = s
}

// sealSegment marks s as written in full: it may be folded.
func (b *Badger) sealSegment(s *segment) {
	b.segMu.Lock()
	defer b.segMu.Unlock()
	s.sealed = true
}

// segment returns the segment with id, folded or not, or nil.
func (b *Badger) segment(id uint32) *segment {
	b.segMu.RLock()
	defer b.segMu.RUnlock()
	return b.segs[id]
}

// nextFold returns the oldest segment not yet folded if it may be folded.
func (b *Badger) nextFold() *segment {
	b.segMu.RLock()
	defer b.segMu.RUnlock()
	var oldest *segment
	for _, s := range b.segs {
		if !s.folded && (oldest == nil || s.id < oldest.id) {
			oldest = s
		}
	}
	if oldest == nil || !oldest.sealed {
		return nil
	}
	return oldest
}

// foldSealed folds every sealed segment, oldest first.
func (b *Badger) foldSealed(ctx context.Context) error {
	b.foldMu.Lock()
	defer b.foldMu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		s := b.nextFold()
		if s == nil {
			return nil
		}
		if err := b.fold(ctx, s); err != nil {
			return fmt.Errorf("memo store %s: fold %s into the database: %w", b.dir, filepath.Base(s.path), err)
		}
	}
}

func (b *Badger) fold(ctx context.Context, s *segment) error {
	data, err := s.contents()
	if err != nil {
		return err
	}
	var recs []record
	var damaged []Key
	scanRecords(data, func(r record) { recs = append(recs, r) },
		// Reported when the store was opened (or never written by this
		// process): here they only need forgetting.
		func(k Key, _ error) { damaged = append(damaged, k) })
	// The last record of each key is what Badger must hold.
	slices.SortStableFunc(recs, func(x, y record) int { return bytes.Compare(x.key[:], y.key[:]) })
	latest := recs[:0]
	for i, r := range recs {
		if i+1 < len(recs) && recs[i+1].key == r.key {
			continue
		}
		latest = append(latest, r)
	}
	// The copy in memory would be stale (preload.go).
	b.preload.drop()
	if err := b.apply(ctx, latest); err != nil {
		return err
	}
	// Known to the key filter before the index lets go of them: a lookup
	// in between must not be told they are absent.
	for _, r := range latest {
		if r.kind == recPut {
			b.known.insert(binary.LittleEndian.Uint64(r.key[:8]))
		}
	}
	for _, r := range latest {
		b.index.forget(r.key, s.id)
	}
	for _, k := range damaged {
		b.index.forget(k, s.id)
	}
	b.segMu.Lock()
	s.folded = true
	b.segMu.Unlock()
	if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return syncDir(filepath.Dir(s.path))
}

// apply writes the records to Badger, in as few transactions as fit. The
// database syncs each commit.
func (b *Badger) apply(ctx context.Context, recs []record) error {
	txn := b.db.NewTransactionAt(math.MaxUint64, true)
	defer func() { txn.Discard() }()
	commit := func() error {
		b.ts++
		if err := txn.CommitAt(b.ts, nil); err != nil {
			return err
		}
		// Versions a later commit replaced, and deleted entries, may go
		// at the next compaction: every read is of the latest version.
		b.db.SetDiscardTs(b.ts)
		return ctx.Err()
	}
	for _, r := range recs {
		op := func(t *badger.Txn) error { return t.Delete(dbKey(r.key)) }
		if r.kind == recPut {
			v := entryValue(r.key, r.body)
			op = func(t *badger.Txn) error { return t.Set(dbKey(r.key), v) }
		}
		err := op(txn)
		if errors.Is(err, badger.ErrTxnTooBig) {
			if err := commit(); err != nil {
				return err
			}
			txn = b.db.NewTransactionAt(math.MaxUint64, true)
			err = op(txn)
		}
		if err != nil {
			return err
		}
	}
	return commit()
}
