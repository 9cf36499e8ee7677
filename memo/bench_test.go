package memo_test

import (
	"crypto/sha256"
	"encoding/binary"
	"sync/atomic"
	"testing"

	"github.com/starflow-hpc/starflow/memo"
)

// benchEntry is a small result, as a no-op task leaves.
func benchEntry(i uint64) memo.Entry {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], i)
	return memo.Entry{Key: sha256.Sum256(b[:]), App: "noop", Run: "runinfo/000", Value: b[:]}
}

func reportRate(b *testing.B, n int64) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkPutSerial is one task completing at a time: every Put waits for
// its own sync.
func BenchmarkPutSerial(b *testing.B) {
	s := openBadger(b, b.TempDir(), memo.Options{})
	defer s.Close()
	var i uint64
	for b.Loop() {
		i++
		if err := s.Put(ctx, benchEntry(i)); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, int64(i))
}

// BenchmarkPutConcurrent is many tasks completing at once, each waiting
// until its result is durable (checkpoint_mode="task_exit"): group commit
// lets them share syncs.
func BenchmarkPutConcurrent(b *testing.B) {
	s := openBadger(b, b.TempDir(), memo.Options{})
	defer s.Close()
	var n atomic.Uint64
	b.SetParallelism(32) // goroutines per core: a busy pool's completions
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Put(ctx, benchEntry(n.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, int64(n.Load()))
}

// BenchmarkGetHit is the second run of a memoized workflow: the store is
// opened afresh and every lookup hits, in the results log.
func BenchmarkGetHit(b *testing.B) { benchmarkGetHit(b, false) }

// BenchmarkGetHitFolded is the same once the log has been folded into
// Badger (by `starflow memo gc`): the lookups read the database, through
// its copy in memory once that is made.
func BenchmarkGetHitFolded(b *testing.B) { benchmarkGetHit(b, true) }

func benchmarkGetHit(b *testing.B, folded bool) {
	dir := b.TempDir()
	s := openBadger(b, dir, memo.Options{})
	const stored = 100_000
	batch := make([]memo.Entry, 0, 1000)
	for i := range uint64(stored) {
		batch = append(batch, benchEntry(i))
		if len(batch) == cap(batch) {
			if err := s.Put(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if folded {
		if err := s.GC(ctx); err != nil {
			b.Fatal(err)
		}
	}
	closeBadger(b, s)
	s = openBadger(b, dir, memo.Options{})
	defer s.Close()
	var n atomic.Uint64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := benchEntry(n.Add(1) % stored).Key
			if _, ok, err := s.Get(ctx, k); err != nil || !ok {
				b.Errorf("Get: ok=%v err=%v", ok, err)
				return
			}
		}
	})
	reportRate(b, int64(n.Load()))
}
