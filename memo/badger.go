package memo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/hashicorp/go-hclog"
)

// Options configure a Badger store. The zero value is ready to use.
type Options struct {
	// Logger receives Badger's messages (its INFO as DEBUG) and reports of
	// damaged entries. Nil is silent.
	Logger hclog.Logger
	// OnDamaged, when set, is told of each damaged entry instead of the
	// logger: once per key for the life of the store. The entry reads as
	// a miss, so its task runs again and its Put replaces it.
	OnDamaged func(k Key, err error)
	// Wait is how long Open waits for another process to close the store
	// before it gives up with an *InUseError. Zero gives up at once.
	Wait time.Duration

	// foldAt overrides foldBytes and foldSegments, for tests.
	foldAt *foldPolicy
	// preloadAt overrides preload's bounds, for tests.
	preloadAt *preloadPolicy
}

// Badger is the durable Store: a Badger database and a results log in a
// directory, locked by the process that has it open. Results are written
// to the log (journal.go), which is folded into the database later
// (fold.go); lookups consult the log's index, then the database or its
// copy in memory (preload.go).
type Badger struct {
	dir       string
	db        *badger.DB
	lock      *storeLock
	log       hclog.Logger
	onDamaged func(Key, error)
	reported  sync.Map // Key → struct{}: damaged entries already reported
	known     *knownKeys
	preload   *preload

	// Every operation runs between enter and leave, so that Close waits for
	// the operations in flight before it closes the database under them.
	mu      sync.Mutex
	idle    *sync.Cond // signalled when active drops to 0 while closing
	active  int
	closing bool

	journal *journal
	index   *logIndex
	segMu   sync.RWMutex
	segs    map[uint32]*segment // every segment this open has seen, folded or not

	foldMu     sync.Mutex    // one fold at a time
	openFold   chan struct{} // closed when the fold Open started, if any, is over
	ts         uint64        // the last commit's timestamp; under foldMu
	stopFold   context.CancelFunc
	closedOnce chan struct{} // closed when Close has finished
}

var _ Store = (*Badger)(nil)

// entryPrefix starts the Badger key of every entry, leaving the rest of
// the key space to records a later format may need.
const entryPrefix = 'e'

func dbKey(k Key) []byte { return append([]byte{entryPrefix}, k[:]...) }

// Badger's sizes, chosen for a store of small results on a small node:
// Badger's defaults (64 MiB memtables, five of them, a 256 MiB block cache,
// 1 GiB value-log files) suit a database server, not one process among a
// workflow's tasks.
const (
	memTableSize = 8 << 20
	// Results above this go to the value log, so that compactions move
	// only keys and small results.
	valueThreshold = 1 << 10
	vlogFileSize   = 64 << 20
	// MaxEntrySize bounds an encoded entry, well under a value-log file.
	MaxEntrySize = vlogFileSize / 2
)

func badgerOptions(dir string, log hclog.Logger) badger.Options {
	return badger.DefaultOptions(dir).
		WithLogger(badgerLogger{log}).
		// Only folds write to the database, a transaction of thousands of
		// entries at a time, and a fold removes a log segment only once
		// the database has its records. Badger's Sync covers only the
		// active memtable's log: an entry in a memtable that filled up and
		// awaits its flush would be in the page cache only, lost to a
		// power cut. Syncing each commit as it is made leaves no such gap.
		WithSyncWrites(true).
		WithDetectConflicts(false).
		WithNumVersionsToKeep(1).
		// Compacting L0 on close drops replaced and deleted entries while
		// the tree is small, and tells the value log which of its records
		// are dead, which is what GC needs to reclaim them.
		WithCompactL0OnClose(true).
		WithMemTableSize(memTableSize).
		WithNumMemtables(2).
		WithNumCompactors(2).
		WithValueThreshold(valueThreshold).
		WithValueLogFileSize(vlogFileSize).
		// Uncompressed tables are read straight from their mapping, with
		// no block cache to fill: a hit costs half as much as with Snappy,
		// for about 100 bytes per small entry instead of 60.
		WithCompression(options.None).
		WithBlockCacheSize(0).
		WithMetricsEnabled(false)
}

// Open opens the store in dir, creating it if needed. It fails with an
// *InUseError when another process has it open (after waiting up to
// opts.Wait), with a *FormatError when a newer starflow wrote it, and with
// a plain error when dir cannot be created or written.
func Open(dir string, opts Options) (*Badger, error) {
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("memo store %s: cannot create it: %w", dir, err)
	}
	lock, err := lockStore(dir, opts.Wait)
	if err != nil {
		return nil, err
	}
	if err := checkFormat(dir); err != nil {
		lock.release()
		return nil, err
	}
	// Managed timestamps: the store has one writer, the fold, so it
	// numbers its own commits. Badger's own numbering makes every read and
	// every new transaction wait, through a watermark goroutine, for the
	// commits before it to be applied: a goroutine hand-off per lookup,
	// which cost more than the lookups themselves.
	db, err := badger.OpenManaged(badgerOptions(dir, log))
	if err != nil {
		lock.release()
		return nil, fmt.Errorf("memo store %s: open: %w", dir, err)
	}
	b := &Badger{
		dir:        dir,
		db:         db,
		lock:       lock,
		log:        log,
		onDamaged:  opts.OnDamaged,
		known:      newKnownKeys(),
		preload:    newPreload(db, opts.preloadAt),
		index:      newLogIndex(),
		segs:       map[uint32]*segment{},
		ts:         db.MaxVersion(),
		closedOnce: make(chan struct{}),
	}
	db.SetDiscardTs(b.ts)
	b.idle = sync.NewCond(&b.mu)
	next, size, err := b.readLog()
	if err != nil {
		b.closeSegments()
		db.Close()
		lock.release()
		return nil, fmt.Errorf("memo store %s: %w", dir, err)
	}
	b.journal = newJournal(b, filepath.Join(dir, logDirName), next)
	var foldCtx context.Context
	foldCtx, b.stopFold = context.WithCancel(context.Background())
	policy := foldPolicy{bytes: foldBytes, segments: foldSegments}
	if opts.foldAt != nil {
		policy = *opts.foldAt
	}
	b.openFold = make(chan struct{})
	if size > policy.bytes || len(b.segs) > policy.segments {
		b.active++ // Close waits for the fold to notice it must stop
		go func() {
			defer b.leave()
			defer close(b.openFold)
			if err := b.foldSealed(foldCtx); err != nil && foldCtx.Err() == nil {
				b.log.Warn("memo results log not folded; the next open tries again", "error", err)
			}
		}()
	} else {
		close(b.openFold)
	}
	return b, nil
}

// readLog indexes the results log that earlier processes left, and
// returns the id the next segment takes and the log's size.
func (b *Badger) readLog() (next uint32, size int64, err error) {
	dir := filepath.Join(b.dir, logDirName)
	ids, err := listSegments(dir)
	if err != nil {
		return 0, 0, fmt.Errorf("read results log: %w", err)
	}
	next = 1
	for _, id := range ids {
		s, err := openSegment(dir, id)
		if err != nil {
			return 0, 0, err
		}
		s.sealed = true
		b.segs[id] = s
		end := scanRecords(s.data, func(r record) {
			b.index.set(r.key, loc{off: r.off, seg: id, size: uint32(len(r.body)), kind: r.kind})
		}, func(k Key, err error) {
			if k == (Key{}) {
				b.log.Warn("damaged bytes in the memo results log skipped", "file", s.path, "error", err)
				return
			}
			b.index.set(k, loc{seg: id, kind: locDamaged})
			b.damaged(k, err)
		})
		if end < len(s.data) {
			// The last write of a process killed while writing: never
			// reported durable, so nothing is lost.
			b.log.Debug("memo results log ends in an unfinished write", "file", s.path, "bytes", len(s.data)-end)
		}
		size += int64(len(s.data))
		next = id + 1
	}
	return next, size, nil
}

// Dir returns the directory the store lives in.
func (b *Badger) Dir() string { return b.dir }

func (b *Badger) enter() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		return ErrClosed
	}
	b.active++
	return nil
}

func (b *Badger) isClosing() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closing
}

func (b *Badger) leave() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.active--
	if b.active == 0 && b.closing {
		b.idle.Broadcast()
	}
}

func (b *Badger) Get(ctx context.Context, k Key) (Entry, bool, error) {
	if err := ctx.Err(); err != nil {
		return Entry{}, false, err
	}
	if err := b.enter(); err != nil {
		return Entry{}, false, err
	}
	defer b.leave()
	if l, ok := b.index.get(k); ok {
		if e, found, answered := b.getLogged(k, l); answered {
			return e, found, nil
		}
	}
	if v, present, covered := b.preload.get(ctx, &k); covered {
		if !present {
			return Entry{}, false, nil
		}
		e, err := decodeEntry(k, v)
		if err != nil {
			b.damaged(k, err)
			return Entry{}, false, nil
		}
		return e, true, nil
	}
	if b.known.absent(k) {
		return Entry{}, false, nil
	}
	e, found, err := b.getStored(k)
	if err != nil {
		return Entry{}, false, fmt.Errorf("memo get %s: %w", k, err)
	}
	b.preload.lookedUp(b)
	if !found && !b.preload.wanted() {
		b.known.missed(b)
	}
	return e, found, nil
}

// getStored reads k's entry from the database.
func (b *Badger) getStored(k Key) (e Entry, found bool, err error) {
	err = b.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(dbKey(k))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			d, err := decodeEntry(k, v)
			if err != nil {
				b.damaged(k, err)
				return nil
			}
			e, found = d, true
			return nil
		})
	})
	return e, found, err
}

// getLogged reads the entry the log's index locates. answered is false
// when the record's segment has been folded meanwhile: Badger has it.
func (b *Badger) getLogged(k Key, l loc) (e Entry, found, answered bool) {
	e, err := b.readLogged(k, l)
	switch {
	case err == errFolded:
		return Entry{}, false, false
	case err != nil:
		b.damaged(k, err)
		return Entry{}, false, true
	}
	return e, l.kind == recPut, true
}

// errFolded: the segment of a location is no longer readable.
var errFolded = errors.New("segment folded")

// readLogged decodes a located Put; a Delete is a zero entry, a damaged
// record errCorrupt.
func (b *Badger) readLogged(k Key, l loc) (Entry, error) {
	switch l.kind {
	case recDelete:
		return Entry{}, nil
	case locDamaged:
		return Entry{Key: k}, fmt.Errorf("%w: record checksum mismatch", errCorrupt)
	}
	s := b.segment(l.seg)
	if s == nil {
		return Entry{}, errFolded
	}
	body, err := s.read(l.off, l.size)
	if err != nil {
		return Entry{Key: k}, err
	}
	e, err := decodePayload(k, body)
	if err != nil {
		return Entry{Key: k}, err
	}
	return e, nil
}

func (b *Badger) Scan(ctx context.Context, fn func(Entry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	return b.scan(ctx, func(e Entry, err error) error {
		if err != nil {
			return nil // reported, skipped
		}
		return fn(e)
	})
}

// scan calls fn with each entry, or with the error that makes it damaged
// after reporting it. It merges the log's index, taken first, with the
// database: a key in both is the log's, which is newer (a fold running
// meanwhile only copies the log's records into the database).
func (b *Badger) scan(ctx context.Context, fn func(Entry, error) error) error {
	logged := b.index.snapshot()
	slices.SortFunc(logged, func(x, y indexed) int { return bytes.Compare(x.key[:], y.key[:]) })
	emitLogged := func(x indexed) error {
		if x.loc.kind == recDelete {
			return nil
		}
		e, err := b.readLogged(x.key, x.loc)
		if err == errFolded {
			return nil // the database has it, and the merge took it from there
		}
		if err != nil {
			b.damaged(x.key, err)
		}
		return fn(e, err)
	}
	err := b.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = []byte{entryPrefix}
		it := txn.NewIterator(opt)
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			item := it.Item()
			var k Key
			if len(item.Key()) != 1+len(k) {
				// Not ours to decode, nor to report as an entry.
				b.log.Warn("unexpected key in memo store", "key", fmt.Sprintf("%x", item.Key()))
				continue
			}
			copy(k[:], item.Key()[1:])
			for len(logged) > 0 && bytes.Compare(logged[0].key[:], k[:]) < 0 {
				if err := emitLogged(logged[0]); err != nil {
					return err
				}
				logged = logged[1:]
			}
			if len(logged) > 0 && logged[0].key == k {
				if err := emitLogged(logged[0]); err != nil {
					return err
				}
				logged = logged[1:]
				continue
			}
			var (
				e    Entry
				derr error
			)
			if err := item.Value(func(v []byte) error {
				e, derr = decodeEntry(k, v)
				return nil
			}); err != nil {
				return err
			}
			if derr != nil {
				b.damaged(k, derr)
			}
			if err := fn(e, derr); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, x := range logged {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := emitLogged(x); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// damaged reports a damaged entry, once per key.
func (b *Badger) damaged(k Key, err error) {
	if _, seen := b.reported.LoadOrStore(k, struct{}{}); seen {
		return
	}
	if b.onDamaged != nil {
		b.onDamaged(k, err)
		return
	}
	b.log.Warn("damaged memo entry read as a miss", "dir", b.dir, "key", k.String(), "error", err)
}

// Close waits for the operations in flight, stops a fold, writes what Put
// has queued, and closes the database, which flushes its memtable.
func (b *Badger) Close() error {
	b.mu.Lock()
	if b.closing {
		b.mu.Unlock()
		<-b.closedOnce
		return nil
	}
	b.closing = true
	b.stopFold()
	for b.active > 0 {
		b.idle.Wait()
	}
	b.mu.Unlock()
	defer close(b.closedOnce)
	b.journal.close()
	err := b.db.Close()
	if serr := b.closeSegments(); err == nil {
		err = serr
	}
	if lerr := b.lock.release(); err == nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("memo store %s: close: %w", b.dir, err)
	}
	return nil
}

func (b *Badger) closeSegments() error {
	var err error
	for _, s := range b.segs {
		if cerr := s.close(); err == nil {
			err = cerr
		}
	}
	return err
}
