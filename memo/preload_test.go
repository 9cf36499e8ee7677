package memo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// preloadEntry is entry i of the preload tests: every tenth has a value
// too large to copy, which lookups read from Badger.
func preloadEntry(i int) Entry {
	e := Entry{Key: sha256.Sum256(fmt.Appendf(nil, "preload/%d", i)), App: "a", Run: "runinfo/001", Value: fmt.Appendf(nil, "value %d", i)}
	if i%10 == 0 {
		e.Value = bytes.Repeat(e.Value, 2*preloadValueMax/len(e.Value))
	}
	return e
}

// eager copies the database at the first lookup that reaches it.
var eager = Options{preloadAt: &preloadPolicy{maxBytes: preloadBytes}}

// foldedStore leaves n preload entries in dir's database, none in its log.
func foldedStore(t *testing.T, dir string, n int) {
	t.Helper()
	s := mustOpen(t, dir, Options{})
	batch := make([]Entry, n)
	for i := range batch {
		batch[i] = preloadEntry(i)
	}
	if err := s.Put(context.Background(), batch...); err != nil {
		t.Fatal(err)
	}
	if err := s.GC(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustClose(t, s)
}

func waitPreloaded(t *testing.T, s *Badger) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if v := s.preload.view.Load(); v != nil && v.complete {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the database was never copied into memory")
}

// get looks up entry i and checks what it finds against want.
func getEntry(t *testing.T, s *Badger, i int, want bool) {
	t.Helper()
	e := preloadEntry(i)
	got, ok, err := s.Get(context.Background(), e.Key)
	switch {
	case err != nil:
		t.Errorf("Get %d: %v", i, err)
	case ok != want:
		t.Errorf("Get %d: found=%v, want %v", i, ok, want)
	case ok && (!bytes.Equal(got.Value, e.Value) || got.App != e.App || got.Run != e.Run):
		t.Errorf("Get %d: %q from %s/%s, want %q", i, got.Value, got.App, got.Run, e.Value)
	}
}

// The copy answers what Badger would, before, during and after it is
// made, while writes and deletes go on; a fold drops it, and lookups
// after the fold see the fold's changes.
func TestPreload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	const stored = 3 * chunkLen
	foldedStore(t, dir, stored)

	s := mustOpen(t, dir, eager)
	defer mustClose(t, s)
	if v := s.preload.view.Load(); v != nil {
		t.Fatal("database copied before any lookup: a store opened for `memo ls` would pay for it")
	}
	// The first lookup starts the copy; these lookups and writes race
	// with it.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < stored; i += 4 {
				getEntry(t, s, i, true)
				n := stored + i
				if err := s.Put(ctx, preloadEntry(n)); err != nil {
					t.Error(err)
					return
				}
				getEntry(t, s, n, true)
				getEntry(t, s, -1-i, false)
			}
		})
	}
	wg.Wait()
	waitPreloaded(t, s)
	if s.known.ready.Load() {
		t.Error("the key filter was read too: the copy does its work")
	}
	for i := range 2 * stored {
		getEntry(t, s, i, true)
	}
	getEntry(t, s, -1, false)

	// Deleted in the log, which shadows the copy.
	if err := s.Delete(ctx, preloadEntry(1).Key, preloadEntry(10).Key); err != nil {
		t.Fatal(err)
	}
	getEntry(t, s, 1, false)
	getEntry(t, s, 10, false)
	// Folded: the database changes under the copy, which must go.
	if err := s.GC(ctx); err != nil {
		t.Fatal(err)
	}
	if s.preload.view.Load() != nil {
		t.Error("the copy outlived a fold")
	}
	getEntry(t, s, 1, false)
	getEntry(t, s, 10, false)
	getEntry(t, s, 2, true)
	getEntry(t, s, stored+2, true)
	if err := s.Put(ctx, preloadEntry(1)); err != nil {
		t.Fatal(err)
	}
	getEntry(t, s, 1, true)
}

// A store opened over a long log folds it first, then copies the database
// that the fold left, results of the log included.
func TestPreloadAfterOpenFold(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const folded, logged = chunkLen, 2 * chunkLen
	foldedStore(t, dir, folded)
	for i := folded; i < folded+logged; i += chunkLen {
		s := mustOpen(t, dir, Options{})
		for j := i; j < i+chunkLen; j += 512 {
			batch := make([]Entry, 512)
			for k := range batch {
				batch[k] = preloadEntry(j + k)
			}
			if err := s.Put(context.Background(), batch...); err != nil {
				t.Fatal(err)
			}
		}
		mustClose(t, s)
	}
	opts := eager
	opts.foldAt = &foldPolicy{bytes: 1 << 40, segments: 1}
	s := mustOpen(t, dir, opts)
	defer mustClose(t, s)
	for i := range folded + logged {
		getEntry(t, s, i, true)
	}
	waitPreloaded(t, s)
	if files := segmentFiles(t, dir); len(files) != 0 {
		t.Errorf("segments left after the background fold: %v", files)
	}
	v := s.preload.view.Load()
	n := 0
	for _, c := range v.chunks {
		n += len(c.keys)
	}
	if n != folded+logged {
		t.Errorf("copy of %d entries, want %d", n, folded+logged)
	}
	for i := range folded + logged {
		getEntry(t, s, i, true)
	}
	getEntry(t, s, -1, false)
}

// A database that outgrows the bound while it is copied is left to Badger
// and the key filter.
func TestPreloadTooBig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const stored = 2 * chunkLen
	foldedStore(t, dir, stored)
	s := mustOpen(t, dir, eager)
	defer mustClose(t, s)
	s.preload.maxBytes = 1000 // under what the tables said at open
	getEntry(t, s, -1, false)
	deadline := time.Now().Add(time.Minute)
	for s.preload.wanted() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if s.preload.wanted() || s.preload.view.Load() != nil {
		t.Fatal("a copy past its bound was kept")
	}
	for i := range stored {
		getEntry(t, s, i, true)
	}
	getEntry(t, s, -2, false) // now the key filter's to answer
	for !s.known.ready.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !s.known.ready.Load() {
		t.Error("the key filter was never read")
	}
	getEntry(t, s, 0, true)
	getEntry(t, s, -3, false)

	// Too big at open already: no copy is ever started.
	small := filepath.Join(t.TempDir(), "small")
	foldedStore(t, small, 10)
	s2 := mustOpen(t, small, Options{preloadAt: &preloadPolicy{maxBytes: 100}})
	defer mustClose(t, s2)
	if s2.preload.wanted() {
		t.Error("a copy is planned of tables over the bound")
	}
	getEntry(t, s2, 3, true)
}

// Bytes flipped in a folded entry make it a miss from the copy too,
// reported once.
func TestPreloadDamagedEntry(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := []byte("PRELOAD-DAMAGE-ME")
	damaged := preloadEntry(-100)
	damaged.Value = marker
	s := mustOpen(t, dir, Options{})
	if err := s.Put(context.Background(), damaged, preloadEntry(1), preloadEntry(2)); err != nil {
		t.Fatal(err)
	}
	if err := s.GC(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustClose(t, s)
	flipped := 0
	tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	for _, path := range tables {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(b, marker); i >= 0 {
			b[i+len(marker)/2] ^= 0x20
			flipped++
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if flipped == 0 {
		t.Fatal("value not found in the tables")
	}

	var mu sync.Mutex
	var reports []Key
	opts := eager
	opts.OnDamaged = func(k Key, err error) {
		mu.Lock()
		defer mu.Unlock()
		if !errors.Is(err, errCorrupt) {
			t.Errorf("report of %s: %v, want errCorrupt", k, err)
		}
		reports = append(reports, k)
	}
	s = mustOpen(t, dir, opts)
	defer mustClose(t, s)
	getEntry(t, s, 1, true) // starts the copy
	waitPreloaded(t, s)
	for range 2 {
		if _, ok, err := s.Get(context.Background(), damaged.Key); ok || err != nil {
			t.Errorf("Get of a damaged entry: ok=%v err=%v, want a miss", ok, err)
		}
	}
	getEntry(t, s, 2, true)
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 1 || reports[0] != damaged.Key {
		t.Errorf("reports %v, want one of %s", reports, damaged.Key)
	}
}

// Closing the store while the copy is made stops it, and lookups waiting
// for it get their answer from Badger.
func TestPreloadClose(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const stored = 5 * chunkLen
	foldedStore(t, dir, stored)
	s := mustOpen(t, dir, eager)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < stored; i += 97 {
				_, ok, err := s.Get(context.Background(), preloadEntry(i).Key)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil || !ok {
					t.Errorf("Get %d: ok=%v err=%v", i, ok, err)
					return
				}
			}
		})
	}
	getEntry(t, s, 0, true)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

// find is a search of sorted hashes that starts where the key's value
// says it should be: it must find every key, whatever the spread, and no
// other, including keys whose first 8 bytes are another key's.
func TestPreloadFind(t *testing.T) {
	t.Parallel()
	randomKey := func(r *rand.Rand) Key {
		var k Key
		for i := 0; i < len(k); i += 8 {
			binary.LittleEndian.PutUint64(k[i:], r.Uint64())
		}
		return k
	}
	spreads := map[string]func(r *rand.Rand) Key{
		"even": randomKey,
		// Crowded at one end: the guess is far off.
		"skewed": func(r *rand.Rand) Key {
			k := randomKey(r)
			if r.IntN(10) > 0 {
				k[0], k[1] = 0, 0
			}
			return k
		},
		// Many keys share their first 8 bytes.
		"shared heads": func(r *rand.Rand) Key {
			k := randomKey(r)
			binary.BigEndian.PutUint64(k[:8], uint64(r.IntN(40))<<40)
			return k
		},
	}
	for name, spread := range spreads {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(1, 2))
			gen := func() Key { return spread(r) }
			keys := make([]Key, 3*chunkLen+17)
			for i := range keys {
				keys[i] = gen()
			}
			slices.SortFunc(keys, func(a, b Key) int { return bytes.Compare(a[:], b[:]) })
			keys = slices.Compact(keys)
			// Chunks as the copy makes them, the last one short.
			v := &preloadView{complete: true}
			for i := 0; i < len(keys); i += chunkLen {
				c := newChunk(0)
				for _, k := range keys[i:min(i+chunkLen, len(keys))] {
					c.add(k[:], k[:4], true)
				}
				v.chunks = append(v.chunks, c)
				v.lasts = append(v.lasts, head(c.last()))
			}
			for _, k := range keys {
				value, present, covered, reached := v.get(&k)
				if !present || !covered || !reached || !bytes.Equal(value, k[:4]) {
					t.Fatalf("key %x: value %x present=%v covered=%v reached=%v", k, value, present, covered, reached)
				}
			}
			absent := []Key{{}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
			for range 10000 {
				absent = append(absent, gen())
			}
			for _, k := range keys[:200] {
				k[31]++ // the same head, another key
				absent = append(absent, k)
			}
			for _, k := range absent {
				if _, found := slices.BinarySearchFunc(keys, k, func(a, b Key) int { return bytes.Compare(a[:], b[:]) }); found {
					continue
				}
				if _, present, covered, reached := v.get(&k); present || !covered || !reached {
					t.Fatalf("absent key %x: present=%v covered=%v reached=%v", k, present, covered, reached)
				}
			}
			// An incomplete copy tells what it reached from what it did not.
			part := &preloadView{chunks: v.chunks[:1], lasts: v.lasts[:1]}
			beyond := keys[chunkLen]
			if _, _, _, reached := part.get(&beyond); reached {
				t.Errorf("key %x past the copy's end: reached", beyond)
			}
			within := keys[chunkLen/2]
			within[31]++
			if i, found := slices.BinarySearchFunc(keys, within, func(a, b Key) int { return bytes.Compare(a[:], b[:]) }); !found && i < chunkLen {
				if _, present, _, reached := part.get(&within); present || !reached {
					t.Errorf("absent key %x inside the copy: present=%v reached=%v", within, present, reached)
				}
			}
		})
	}
}
