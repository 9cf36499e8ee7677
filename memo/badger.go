package memo

import (
	"context"
	"errors"
	"fmt"
	"os"
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
}

// Badger is the durable Store: one Badger database in a directory, locked
// by the process that has it open.
type Badger struct {
	dir       string
	db        *badger.DB
	lock      *storeLock
	log       hclog.Logger
	onDamaged func(Key, error)
	reported  sync.Map // Key → struct{}: damaged entries already reported
	known     *knownKeys

	// Every operation runs between enter and leave, so that Close waits for
	// the operations in flight before it closes the database under them.
	mu      sync.Mutex
	idle    *sync.Cond // signalled when active drops to 0 while closing
	active  int
	closing bool

	ts        uint64            // the last commit's timestamp; the committer's alone
	queue     chan *writeReq    // to the committer; closed by Close
	toSync    chan writtenBatch // committer to syncer; closed by the committer
	committed chan struct{}     // closed when the syncer has answered the last batch
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
		WithSyncWrites(false). // the committer syncs once per batch
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
	// Managed timestamps: the store has one writer, its committer, so it
	// numbers its own commits. Badger's own numbering makes every read and
	// every new transaction wait, through a watermark goroutine, for the
	// commits before it to be applied: a goroutine hand-off per lookup and
	// per batch, which cost more than the lookups themselves.
	db, err := badger.OpenManaged(badgerOptions(dir, log))
	if err != nil {
		lock.release()
		return nil, fmt.Errorf("memo store %s: open: %w", dir, err)
	}
	b := &Badger{
		dir:       dir,
		db:        db,
		lock:      lock,
		log:       log,
		onDamaged: opts.OnDamaged,
		known:     newKnownKeys(),
		queue:     make(chan *writeReq, maxBatch),
		toSync:    make(chan writtenBatch, syncBacklog),
		committed: make(chan struct{}),
		ts:        db.MaxVersion(),
	}
	db.SetDiscardTs(b.ts)
	b.idle = sync.NewCond(&b.mu)
	go b.commitLoop()
	go b.syncLoop()
	return b, nil
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
	if b.known.absent(k) {
		return Entry{}, false, nil
	}
	var (
		e     Entry
		found bool
	)
	err := b.db.View(func(txn *badger.Txn) error {
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
	if err != nil {
		return Entry{}, false, fmt.Errorf("memo get %s: %w", k, err)
	}
	if !found {
		b.known.missed(b)
	}
	return e, found, nil
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
// after reporting it.
func (b *Badger) scan(ctx context.Context, fn func(Entry, error) error) error {
	return b.db.View(func(txn *badger.Txn) error {
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
		return ctx.Err()
	})
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

// Close waits for the operations in flight, writes what Put has queued,
// and closes the database, which flushes its memtable.
func (b *Badger) Close() error {
	b.mu.Lock()
	if b.closing {
		b.mu.Unlock()
		<-b.committed
		return nil
	}
	b.closing = true
	for b.active > 0 {
		b.idle.Wait()
	}
	b.mu.Unlock()
	close(b.queue)
	<-b.committed
	err := b.db.Close()
	if lerr := b.lock.release(); err == nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("memo store %s: close: %w", b.dir, err)
	}
	return nil
}
