package memo

import (
	"slices"
	"sync"
)

// logIndex maps every key the results log holds to its latest record. It
// is what makes the log a store: a lookup consults it before Badger, and
// what it holds shadows Badger's entry under the same key, because the
// log is always newer than what was folded into Badger.
//
// Its values hold no pointers, so the garbage collector never scans it,
// however many results a run writes. It is sharded by the key's first
// byte: the writer adds a group of records while the kernel's memo stage
// looks keys up, and each takes one shard's lock at a time.
type logIndex struct {
	shards [indexShards]indexShard
}

const indexShards = 64

type indexShard struct {
	mu sync.RWMutex
	m  map[Key]loc
	_  [64 - 32]byte // a cache line per shard: no false sharing of locks
}

// loc is where a key's latest record is.
type loc struct {
	off  int64  // of the record's body in its segment
	seg  uint32 // the segment's id
	size uint32 // of the body
	kind uint8  // recPut, recDelete, or locDamaged
}

// locDamaged marks a record that failed its checksum: the key reads as a
// miss (not as the older entry Badger may hold) until it is put again.
const locDamaged = 0xff

func newLogIndex() *logIndex {
	ix := &logIndex{}
	for i := range ix.shards {
		ix.shards[i].m = make(map[Key]loc)
	}
	return ix
}

func (ix *logIndex) shard(k *Key) *indexShard { return &ix.shards[k[0]%indexShards] }

func (ix *logIndex) get(k Key) (loc, bool) {
	sh := ix.shard(&k)
	sh.mu.RLock()
	l, ok := sh.m[k]
	sh.mu.RUnlock()
	return l, ok
}

func (ix *logIndex) set(k Key, l loc) {
	sh := ix.shard(&k)
	sh.mu.Lock()
	sh.m[k] = l
	sh.mu.Unlock()
}

// addRecords indexes the records of one written group, which starts at
// base in segment seg. It takes each shard's lock once for the group,
// not once per record: a group holds hundreds.
func (ix *logIndex) addRecords(seg uint32, base int64, group []byte, scratch *indexScratch) {
	var counts [indexShards + 1]int
	recs := scratch.recs[:0]
	for off := 0; off < len(group); {
		rec, size, err := parseRecord(group[off:])
		if err != nil {
			panic("memo: the writer's own group does not parse: " + err.Error())
		}
		recs = append(recs, indexed{rec.key, loc{off: base + int64(off+recHeader), seg: seg, size: uint32(len(rec.body)), kind: rec.kind}})
		counts[rec.key[0]%indexShards+1]++
		off += size
	}
	// Bucket by shard, keeping the records' order within each, so that of
	// two records of one key the later is set last.
	for i := 1; i <= indexShards; i++ {
		counts[i] += counts[i-1]
	}
	byShard := slices.Grow(scratch.byShard[:0], len(recs))[:len(recs)]
	for _, r := range recs {
		n := r.key[0] % indexShards
		byShard[counts[n]] = r
		counts[n]++
	}
	for i := 0; i < len(byShard); {
		sh := ix.shard(&byShard[i].key)
		sh.mu.Lock()
		for ; i < len(byShard) && ix.shard(&byShard[i].key) == sh; i++ {
			sh.m[byShard[i].key] = byShard[i].loc
		}
		sh.mu.Unlock()
	}
	scratch.recs, scratch.byShard = recs[:0], byShard[:0]
}

// indexScratch is addRecords' memory, kept from one group to the next.
type indexScratch struct{ recs, byShard []indexed }

// forget removes k if its latest record is still the one in seg: the
// record has been folded into Badger, and a newer one must stay.
func (ix *logIndex) forget(k Key, seg uint32) {
	sh := ix.shard(&k)
	sh.mu.Lock()
	if l, ok := sh.m[k]; ok && l.seg == seg {
		delete(sh.m, k)
	}
	sh.mu.Unlock()
}

// indexed is one key and its location, for Scan.
type indexed struct {
	key Key
	loc loc
}

// snapshot returns every key and location, unordered.
func (ix *logIndex) snapshot() []indexed {
	var out []indexed
	for i := range ix.shards {
		sh := &ix.shards[i]
		sh.mu.RLock()
		for k, l := range sh.m {
			out = append(out, indexed{k, l})
		}
		sh.mu.RUnlock()
	}
	return out
}
