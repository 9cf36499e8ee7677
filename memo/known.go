package memo

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
)

// knownKeys answers "is this key surely not in the database?" without
// asking Badger.
//
// A lookup of a key the store never held is the common case of a first
// run, and of the unfinished part of a rerun; the results log's index
// (index.go) answers for the log, and Badger would answer for itself by a
// search of its memtable and tables: a few microseconds, as much as a
// no-op task costs. So the store keeps the first 8 bytes of every key the
// database may hold: those on disk when it was opened, read once after the
// first miss (a store that only ever hits, as in a rerun of a finished
// workflow, never pays for the read), and those folded into it since,
// added before the log's index lets go of them. A prefix that is not there
// means the key is absent; one that is there means only "ask Badger", so
// deletes need not remove anything.
type knownKeys struct {
	ready atomic.Bool // the keys on disk at open have been read
	start sync.Once
	// Sharded by the prefix's low bits: writers (completing tasks) and
	// readers (the kernel's memo stage) each take one shard's lock, so
	// they rarely wait for one another.
	shards [knownShards]knownShard
}

const knownShards = 64

type knownShard struct {
	mu  sync.Mutex
	set map[uint64]struct{}
	_   [64 - 16]byte // a cache line per shard: no false sharing of locks
}

func newKnownKeys() *knownKeys {
	kk := &knownKeys{}
	for i := range kk.shards {
		kk.shards[i].set = make(map[uint64]struct{})
	}
	return kk
}

func (kk *knownKeys) shard(p uint64) *knownShard { return &kk.shards[p%knownShards] }

// absent reports whether k is surely not in the store.
func (kk *knownKeys) absent(k Key) bool {
	if !kk.ready.Load() {
		return false
	}
	p := binary.LittleEndian.Uint64(k[:8])
	sh := kk.shard(p)
	sh.mu.Lock()
	_, ok := sh.set[p]
	sh.mu.Unlock()
	return !ok
}

func (kk *knownKeys) insert(p uint64) {
	sh := kk.shard(p)
	sh.mu.Lock()
	sh.set[p] = struct{}{}
	sh.mu.Unlock()
}

// missed is told of a lookup Badger answered with a miss: the first one
// starts reading the keys on disk, on a goroutine of its own, so that the
// lookups after it can skip Badger.
func (kk *knownKeys) missed(b *Badger) {
	kk.start.Do(func() {
		if err := b.enter(); err != nil {
			return // closing: nobody will look up again
		}
		go func() {
			defer b.leave()
			kk.load(b)
		}()
	})
}

// load reads every key on disk. Keys folded meanwhile are added by the
// fold, so the union is complete when load marks the set ready. It
// gives up, leaving the set unready (every lookup goes to Badger), if the
// store starts closing or cannot be read.
func (kk *knownKeys) load(b *Badger) {
	var found []uint64
	err := b.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.PrefetchValues = false
		opt.Prefix = []byte{entryPrefix}
		it := txn.NewIterator(opt)
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%4096 == 0 && b.isClosing() {
				return ErrClosed
			}
			key := it.Item().Key()
			if len(key) == 1+len(Key{}) {
				found = append(found, binary.LittleEndian.Uint64(key[1:9]))
			}
		}
		return nil
	})
	if err != nil {
		b.log.Debug("memo key filter not built; every lookup reads the store", "error", err)
		return
	}
	for _, p := range found {
		kk.insert(p)
	}
	kk.ready.Store(true)
	b.log.Debug("memo key filter built", "keys_on_disk", len(found))
}
