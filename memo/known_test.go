package memo

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func knownEntry(i int) Entry {
	return Entry{Key: sha256.Sum256(fmt.Appendf(nil, "known/%d", i)), App: "a", Value: []byte{byte(i)}}
}

// noPreload leaves lookups of the database to Badger and the key filter,
// as for a database too big to copy into memory (preload.go).
var noPreload = Options{preloadAt: &preloadPolicy{maxBytes: -1}}

// The key filter only ever saves Badger a lookup of a key it does not
// hold: a store reopened over entries finds all of them, before, during
// and after the filter reads the keys on disk, while writes and deletes go
// on.
func TestKnownKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const stored = 5000
	batch := make([]Entry, stored)
	for i := range batch {
		batch[i] = knownEntry(i)
	}
	if err := s.Put(ctx, batch...); err != nil {
		t.Fatal(err)
	}
	// Into the database, where the filter is of use: the log's index
	// answers for the log.
	if err := s.GC(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir, noPreload)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.known.ready.Load() {
		t.Fatal("filter ready before any miss: a store that only hits would pay for reading its keys")
	}
	get := func(i int) bool {
		_, ok, err := s.Get(ctx, knownEntry(i).Key)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if get(-1) {
		t.Fatal("found a key never stored")
	}
	// The miss started the read of the keys on disk; these lookups and
	// writes race with it.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < stored; i += 4 {
				if !get(i) {
					t.Errorf("entry %d stored before the reopen: not found", i)
					return
				}
				n := stored + i
				if err := s.Put(ctx, knownEntry(n)); err != nil {
					t.Error(err)
					return
				}
				if !get(n) {
					t.Errorf("entry %d: not found after its Put returned", n)
					return
				}
				if get(-2 - i) {
					t.Errorf("found key %d, never stored", -2-i)
					return
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(time.Minute)
	for !s.known.ready.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !s.known.ready.Load() {
		t.Fatal("the filter never became ready")
	}
	for i := range 2 * stored {
		if !get(i) {
			t.Fatalf("entry %d not found once the filter is ready", i)
		}
	}
	if err := s.Delete(ctx, knownEntry(0).Key); err != nil {
		t.Fatal(err)
	}
	if get(0) {
		t.Error("deleted entry still found")
	}
	if err := s.Put(ctx, knownEntry(0)); err != nil {
		t.Fatal(err)
	}
	if !get(0) {
		t.Error("entry put again after its delete not found")
	}
}

// Closing the store while the filter reads the keys on disk stops the
// read and the close completes.
func TestKnownKeysClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]Entry, 20000)
	for i := range batch {
		batch[i] = knownEntry(i)
	}
	if err := s.Put(ctx, batch...); err != nil {
		t.Fatal(err)
	}
	if err := s.GC(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(dir, noPreload)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Get(ctx, knownEntry(-1).Key); ok || err != nil {
		t.Fatalf("Get of a key never stored: ok=%v err=%v", ok, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, knownEntry(1).Key); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
}
