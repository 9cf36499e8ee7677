package memo

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
)

// preload answers lookups of a small database from a copy of it in memory.
//
// A lookup that reaches Badger costs a search of its memtables and of a
// table per level: a couple of microseconds, more than a no-op task, so a
// rerun of a workflow whose results were folded into the database (by
// `starflow memo gc`, or by an open that found a long log) ran at two
// thirds of the rate of one whose results were still in the log. Reading
// the whole database in key order costs about a tenth of a lookup per
// entry. So once a run has looked up a fair number of keys in the
// database, the store reads all of it, on a goroutine of its own, and
// answers from the copy: a lookup of a key the read has not reached yet
// waits for it. A key the copy covers and does not hold is a miss, so the
// copy does the key filter's work too (known.go).
//
// The copy holds the values as Badger does, checksum included: damage is
// found, and reported, when an entry is read, as it would be from Badger.
// Values too large to be worth a copy are marked as present, to be read
// from Badger.
//
// Bounds: the copy is made only of a database whose tables, as Badger
// counts them, are at most maxBytes, and it is abandoned if it grows past
// that (a memtable replayed after a crash is not in those counts); its
// memory is less than the tables', with no pointers for the garbage
// collector to follow. It is not made before the run has looked up in the
// database a sixty-fourth as many keys as the tables hold, so that a run
// of a few tasks in a big project does not pay for a copy it would not
// use; a run that has looked up that many is likely to look up many more,
// and at a tenth of a lookup per entry, the copy costs as much as another
// tenth of the entries looked up.
//
// Consistency: only a fold changes the database (fold.go). The copy is
// made under the fold lock, so no fold runs while it is read (one that
// an open started, of a long log, runs first), and a fold drops a copy
// before it applies anything: from then on lookups ask Badger.
// A lookup that took the copy before the drop may still answer from it,
// which is right, because the fold's records stay in the log's index,
// which lookups consult first, until the fold is done.
type preload struct {
	maxBytes int64
	after    int64 // lookups in the database before the copy is made

	lookups atomic.Int64
	start   sync.Once
	view    atomic.Pointer[preloadView] // nil: no copy (yet, or any more)
	off     atomic.Bool                 // too big, dropped, or failed: ask Badger
}

// preloadPolicy overrides the bounds, for tests.
type preloadPolicy struct {
	maxBytes int64
	after    int64
}

const (
	// preloadBytes bounds the tables a copy is made of: a few hundred
	// thousand small results.
	preloadBytes = 64 << 20
	// The copy is made once the run has looked up in the database one
	// key for every preloadSpend entries the tables hold.
	preloadSpend = 64
	// preloadValueMax: larger values are left in Badger. It is Badger's
	// own threshold for the value log, from which a read costs a disk
	// access per value.
	preloadValueMax = valueThreshold
	// chunkLen is how many entries are published at a time.
	chunkLen = 4096
)

// errTooBig: the copy would take more memory than it may.
var errTooBig = errors.New("database larger than the preload bound")

// notCopied marks, in an end offset, an entry whose value was left in
// Badger.
const notCopied = 1 << 31

// preloadView is a published state of the copy: immutable.
type preloadView struct {
	chunks   []*preloadChunk // in key order, each non-empty
	lasts    []uint64        // the head of each chunk's last key
	complete bool            // every entry of the database is in chunks
	next     chan struct{}   // closed when a newer view replaces an incomplete one
}

// preloadChunk is a run of consecutive entries of the database.
type preloadChunk struct {
	// The keys' first 8 bytes, big endian, which order them as the keys
	// do: a binary search over them touches an eighth of the memory a
	// search over the keys would.
	heads []uint64
	keys  []Key
	ends  []uint32 // value i is vals[ends[i-1]:ends[i]], flagged notCopied
	vals  []byte
}

func newChunk(valBytes int) *preloadChunk {
	return &preloadChunk{
		heads: make([]uint64, 0, chunkLen),
		keys:  make([]Key, 0, chunkLen),
		ends:  make([]uint32, 0, chunkLen),
		vals:  make([]byte, 0, valBytes),
	}
}

func head(k *Key) uint64 { return binary.BigEndian.Uint64(k[:8]) }

func (c *preloadChunk) last() *Key { return &c.keys[len(c.keys)-1] }

// find returns the index of k in c, or -1. Keys are hashes, spread
// evenly: the index k would have is guessed from where its head falls
// between the first and the last, and the search starts there, a few
// cache lines from the answer instead of a dozen steps away.
func (c *preloadChunk) find(k *Key) int {
	h := head(k)
	n := len(c.heads)
	lo, hi := c.heads[0], c.heads[n-1]
	if h < lo || h > hi {
		return -1
	}
	g := 0
	if hi > lo {
		// (h-lo)*(n-1)/(hi-lo), in 128 bits: the quotient is below n.
		x1, x0 := bits.Mul64(h-lo, uint64(n-1))
		q, _ := bits.Div64(x1, x0, hi-lo)
		g = int(q)
	}
	// Gallop from the guess to a range that holds the first head ≥ h.
	var from, to int
	if c.heads[g] < h {
		from, to = g+1, g+1
		for step := 8; to < n && c.heads[to] < h; step *= 2 {
			from, to = to+1, min(to+step, n)
		}
	} else {
		from, to = g, g
		for step := 8; from > 0 && c.heads[from-1] >= h; step *= 2 {
			to, from = from-1, max(from-step, 0)
		}
	}
	i := from + sort.Search(to-from, func(i int) bool { return c.heads[from+i] >= h })
	for ; i < n && c.heads[i] == h; i++ {
		if c.keys[i] == *k {
			return i
		}
	}
	return -1
}

func (c *preloadChunk) add(k []byte, v []byte, copied bool) {
	c.keys = append(c.keys, Key(k))
	c.heads = append(c.heads, head(&c.keys[len(c.keys)-1]))
	c.vals = append(c.vals, v...)
	end := uint32(len(c.vals))
	if !copied {
		end |= notCopied
	}
	c.ends = append(c.ends, end)
}

func (c *preloadChunk) bytes() int64 { return int64(len(c.keys)*(len(Key{})+8+4) + len(c.vals)) }

// newPreload plans the copy of db.
func newPreload(db *badger.DB, policy *preloadPolicy) *preload {
	p := &preload{maxBytes: preloadBytes}
	var keys, size int64
	for _, t := range db.Tables() {
		keys += int64(t.KeyCount)
		size += int64(t.UncompressedSize)
	}
	p.after = keys / preloadSpend
	if policy != nil {
		p.maxBytes, p.after = policy.maxBytes, policy.after
	}
	if size > p.maxBytes {
		p.off.Store(true)
	}
	return p
}

// wanted reports whether a copy is made or to be made: the key filter is
// then of no use.
func (p *preload) wanted() bool { return !p.off.Load() }

// get looks k up in the copy. covered is false when the copy cannot tell
// (there is none, or k's value is not in it, or ctx ended): Badger must
// be asked. Otherwise present says whether the database holds k, and
// value is what it holds, aliasing the copy.
//
// While the copy is being made, a key it has not reached yet waits for
// it: the copy reaches any key in a fraction of the time it takes to
// make, and each lookup that went to Badger instead would take the CPU
// that making it needs.
func (p *preload) get(ctx context.Context, k *Key) (value []byte, present, covered bool) {
	for v := p.view.Load(); v != nil; v = p.view.Load() {
		value, present, covered, reached := v.get(k)
		if reached {
			return value, present, covered
		}
		select {
		case <-v.next:
		case <-ctx.Done():
			return nil, false, false
		}
	}
	return nil, false, false
}

// get is preload.get in one view; reached is false when the view does not
// reach k (yet).
func (v *preloadView) get(k *Key) (value []byte, present, covered, reached bool) {
	h := head(k)
	i, _ := slices.BinarySearch(v.lasts, h)
	for ; i < len(v.chunks); i++ {
		c := v.chunks[i]
		if j := c.find(k); j >= 0 {
			return c.value(j)
		}
		if v.lasts[i] > h || bytes.Compare(c.last()[:], k[:]) > 0 {
			return nil, false, true, true // k's place is in c
		}
	}
	return nil, false, v.complete, v.complete
}

// value is preloadView.get of the entry at j.
func (c *preloadChunk) value(j int) (value []byte, present, covered, reached bool) {
	end := c.ends[j]
	if end&notCopied != 0 {
		return nil, true, false, true
	}
	var start uint32
	if j > 0 {
		start = c.ends[j-1] &^ notCopied
	}
	return c.vals[start:end], true, true, true
}

// publish replaces the view, waking the lookups that waited for a newer
// one. Views change under the store's foldMu.
func (p *preload) publish(v *preloadView) {
	if old := p.view.Swap(v); old != nil && !old.complete {
		close(old.next)
	}
}

// lookedUp counts a lookup that Badger answered, and starts the copy once
// they are many enough.
func (p *preload) lookedUp(b *Badger) {
	if p.off.Load() || p.lookups.Add(1) < p.after {
		return
	}
	p.start.Do(func() {
		if err := b.enter(); err != nil {
			return // closing: nobody will look up again
		}
		go func() {
			defer b.leave()
			p.build(b)
		}()
	})
}

// drop abandons the copy, if there is one: the database is about to
// change. A copy yet to be made will read the changed database. It runs
// under the store's foldMu.
func (p *preload) drop() {
	if p.view.Load() == nil {
		return
	}
	p.off.Store(true)
	p.publish(nil)
}

// build reads the database into the copy, publishing it a chunk at a time.
func (p *preload) build(b *Badger) {
	// A copy made before the fold of a long log would be dropped by it.
	<-b.openFold
	b.foldMu.Lock()
	defer b.foldMu.Unlock()
	if p.off.Load() || b.isClosing() {
		return
	}
	var (
		chunks []*preloadChunk
		lasts  []uint64
		cur    = newChunk(chunkLen * 64)
		size   int64
		n      int
	)
	publish := func(complete bool) {
		if len(cur.keys) > 0 {
			size += cur.bytes()
			chunks = append(slices.Clip(chunks), cur)
			lasts = append(slices.Clip(lasts), head(cur.last()))
			// The next chunk's values are likely to take about as
			// much room as this one's.
			cur = newChunk(len(cur.vals) + len(cur.vals)/8)
		}
		p.publish(&preloadView{chunks: chunks, lasts: lasts, complete: complete, next: make(chan struct{})})
	}
	publish(false) // lookups wait for the copy from now on
	txn := b.db.NewTransactionAt(math.MaxUint64, false)
	defer txn.Discard()
	opt := badger.DefaultIteratorOptions
	opt.PrefetchValues = false
	opt.Prefix = []byte{entryPrefix}
	it := txn.NewIterator(opt)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		key := item.Key()
		if len(key) != 1+len(Key{}) {
			continue // not an entry: Scan reports it
		}
		n++
		var err error
		if item.ValueSize() >= preloadValueMax {
			cur.add(key[1:], nil, false)
		} else {
			err = item.Value(func(v []byte) error {
				cur.add(key[1:], v, true)
				return nil
			})
		}
		if err == nil && size+cur.bytes() > p.maxBytes {
			err = errTooBig
		}
		if err == nil && len(cur.keys) == chunkLen && b.isClosing() {
			err = ErrClosed
		}
		if err != nil {
			b.log.Debug("memo store not preloaded; lookups read the database", "entries_read", n, "reason", err)
			p.drop()
			return
		}
		if len(cur.keys) == chunkLen {
			publish(false)
		}
	}
	publish(true)
	b.log.Debug("memo store preloaded", "entries", n, "bytes", size)
}
