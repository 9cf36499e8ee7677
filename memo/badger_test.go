package memo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/memo"
	"github.com/starflow-hpc/starflow/memo/memotest"
)

var ctx = context.Background()

func openBadger(t testing.TB, dir string, opts memo.Options) *memo.Badger {
	t.Helper()
	s, err := memo.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func closeBadger(t testing.TB, s *memo.Badger) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestBadgerConformance(t *testing.T) {
	t.Parallel()
	memotest.Run(t, func(t *testing.T) memo.Store {
		return openBadger(t, t.TempDir(), memo.Options{})
	})
}

func TestBadgerReopen(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "project", ".starflow", "memo") // Open creates the path
	s := openBadger(t, dir, memo.Options{})
	large := memotest.E("large")
	large.Value = bytes.Repeat([]byte("x"), 64<<10)
	want := []memo.Entry{memotest.E("a"), memotest.E("b"), large}
	if err := s.Put(ctx, want...); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, memotest.K("b")); err != nil {
		t.Fatal(err)
	}
	closeBadger(t, s)

	s = openBadger(t, dir, memo.Options{})
	defer closeBadger(t, s)
	for _, e := range []memo.Entry{want[0], want[2]} {
		got, ok, err := s.Get(ctx, e.Key)
		if err != nil || !ok {
			t.Fatalf("Get after reopen: ok=%v err=%v", ok, err)
		}
		if d := memotest.Equal(got, e); d != "" {
			t.Errorf("after reopen: %s", d)
		}
	}
	if _, ok, _ := s.Get(ctx, memotest.K("b")); ok {
		t.Error("deleted entry back after reopen")
	}
}

func TestBadgerInUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openBadger(t, dir, memo.Options{})
	// flock locks belong to open files, not processes, so a second Open
	// in this process is refused as another process's would be.
	_, err := memo.Open(dir, memo.Options{})
	var inUse *memo.InUseError
	if !errors.As(err, &inUse) {
		t.Fatalf("second Open: %v, want an *InUseError", err)
	}
	host, _ := os.Hostname()
	if inUse.Holder.PID != os.Getpid() || inUse.Holder.Host != host {
		t.Errorf("holder %+v, want pid %d on %s", inUse.Holder, os.Getpid(), host)
	}
	for _, want := range []string{dir, fmt.Sprintf("pid %d", os.Getpid()), "--memo-dir", filepath.Base(os.Args[0])} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	// With Wait, Open gets the store once its holder closes it.
	opened := make(chan error, 1)
	go func() {
		s2, err := memo.Open(dir, memo.Options{Wait: time.Minute})
		if err == nil {
			err = s2.Close()
		}
		opened <- err
	}()
	closeBadger(t, s)
	if err := <-opened; err != nil {
		t.Errorf("Open with Wait after the holder closed: %v", err)
	}
}

func TestBadgerNewerFormat(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	closeBadger(t, openBadger(t, dir, memo.Options{}))
	record := fmt.Sprintf("starflow memo store\nformat %d\n", memo.FormatVersion+1)
	if err := os.WriteFile(filepath.Join(dir, "FORMAT"), []byte(record), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := memo.Open(dir, memo.Options{})
	var ferr *memo.FormatError
	if !errors.As(err, &ferr) || ferr.Version != memo.FormatVersion+1 {
		t.Fatalf("Open of a newer store: %v, want a *FormatError", err)
	}
	if !strings.Contains(err.Error(), "upgrade starflow") {
		t.Errorf("error %q does not say what to do", err)
	}
	// The refusal released the lock.
	if err := os.WriteFile(filepath.Join(dir, "FORMAT"), []byte("starflow memo store\nformat 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	closeBadger(t, openBadger(t, dir, memo.Options{}))
}

func TestBadgerNotAStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "FORMAT"), []byte("my notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := memo.Open(dir, memo.Options{})
	if err == nil || !strings.Contains(err.Error(), "not a starflow memo store") {
		t.Fatalf("Open of a folder with another FORMAT file: %v", err)
	}
}

func TestBadgerUnwritable(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{"under a file": filepath.Join(file, "memo")}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		dirs["read-only"] = ro
		dirs["under a read-only folder"] = filepath.Join(ro, "memo")
	}
	for name, dir := range dirs {
		_, err := memo.Open(dir, memo.Options{})
		if err == nil || !strings.Contains(err.Error(), "memo store "+dir) {
			t.Errorf("%s: Open: %v, want an error naming %s", name, err, dir)
		}
	}
}

// Bytes flipped on disk make their entry a miss, reported once, whether
// the entry is still in the results log or folded into the database, and
// there in the LSM tree (small) or the value log (large).
func TestBadgerDamagedEntry(t *testing.T) {
	t.Parallel()
	for _, where := range []string{"logged", "folded"} {
		for name, size := range map[string]int{"small": 40, "large": 8 << 10} {
			t.Run(where+"/"+name, func(t *testing.T) {
				t.Parallel()
				testDamagedEntry(t, name, size, where == "folded")
			})
		}
	}
}

func testDamagedEntry(t *testing.T, name string, size int, folded bool) {
	dir := t.TempDir()
	marker := []byte("DAMAGE-ME-" + name + "-")
	damaged := memotest.E("damaged")
	damaged.Value = bytes.Repeat(marker, size/len(marker)+1)
	s := openBadger(t, dir, memo.Options{})
	if err := s.Put(ctx, memotest.E("a"), damaged, memotest.E("z")); err != nil {
		t.Fatal(err)
	}
	if folded {
		if err := s.GC(ctx); err != nil {
			t.Fatal(err)
		}
	}
	closeBadger(t, s)
	if n := flipAll(t, dir, marker); n == 0 {
		t.Fatal("value not found on disk")
	}

	var mu sync.Mutex
	var reports []memo.Key
	s = openBadger(t, dir, memo.Options{OnDamaged: func(k memo.Key, err error) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, k)
	}})
	defer closeBadger(t, s)
	for range 2 {
		if _, ok, err := s.Get(ctx, damaged.Key); ok || err != nil {
			t.Errorf("Get of a damaged entry: ok=%v err=%v, want a miss", ok, err)
		}
	}
	var keys []memo.Key
	if err := s.Scan(ctx, func(e memo.Entry) error { keys = append(keys, e.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Errorf("Scan: %d entries, want the 2 undamaged", len(keys))
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Entries != 2 || st.Damaged != 1 {
		t.Errorf("Stats: %+v, %v; want 2 entries, 1 damaged", st, err)
	}
	if len(reports) != 1 || reports[0] != damaged.Key {
		t.Errorf("reports %v, want one of %s", reports, damaged.Key)
	}
	// The rerun task's Put replaces it.
	if err := s.Put(ctx, damaged); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get(ctx, damaged.Key); !ok {
		t.Error("Get after replacing a damaged entry: miss")
	}
}

// flipAll flips one bit in the middle of every copy of marker in the files
// under dir, and returns how many it found.
func flipAll(t *testing.T, dir string, marker []byte) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found := false
		for i := 0; ; {
			j := bytes.Index(b[i:], marker)
			if j < 0 {
				break
			}
			b[i+j+len(marker)/2] ^= 0x20
			i += j + len(marker)
			found = true
			n++
		}
		if found {
			return os.WriteFile(path, b, 0o644)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBadgerStatsAndGC(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openBadger(t, dir, memo.Options{})
	var es []memo.Entry
	for i := range 2000 {
		e := memotest.E(fmt.Sprint(i))
		e.App = []string{"sim", "plot"}[i%2]
		e.Value = bytes.Repeat([]byte{byte(i)}, 4<<10) // in the value log
		es = append(es, e)
	}
	if err := s.Put(ctx, es...); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != 2000 || st.Apps["sim"] != 1000 || st.Apps["plot"] != 1000 || st.ValueBytes != 2000*4<<10 {
		t.Errorf("Stats: %+v", st)
	}
	var keys []memo.Key
	for _, e := range es[:1900] {
		keys = append(keys, e.Key)
	}
	if err := s.Delete(ctx, keys...); err != nil {
		t.Fatal(err)
	}
	closeBadger(t, s)

	// As `starflow memo gc` does: open, collect, close.
	s = openBadger(t, dir, memo.Options{})
	before, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.GC(ctx); err != nil {
		t.Fatalf("GC: %v", err)
	}
	after, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("disk before GC %d bytes, after %d", before.DiskBytes(), after.DiskBytes())
	if after.Entries != 100 || after.DiskBytes() >= before.DiskBytes() {
		t.Errorf("after GC: %d entries, %d bytes on disk (before: %d)", after.Entries, after.DiskBytes(), before.DiskBytes())
	}
	// Deleted keys stay deleted across GC and reopening (badger #2310).
	closeBadger(t, s)
	s = openBadger(t, dir, memo.Options{})
	defer closeBadger(t, s)
	for i, e := range es {
		_, ok, err := s.Get(ctx, e.Key)
		if err != nil || ok != (i >= 1900) {
			t.Fatalf("entry %d after GC: ok=%v err=%v", i, ok, err)
		}
	}
}

// TestBadgerBytesPerEntry measures what the issue bounds: the disk space of
// a small memoized result after `memo gc`. It reports; the benchmark table
// holds the number to.
func TestBadgerBytesPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 entries")
	}
	t.Parallel()
	const n = 100_000
	dir := t.TempDir()
	s := openBadger(t, dir, memo.Options{})
	batch := make([]memo.Entry, 0, 1000)
	for i := range n {
		e := memotest.E(fmt.Sprint(i))
		e.App, e.Run = "sim", "runinfo/003"
		e.Value = fmt.Appendf(nil, "result %09d", i) // 16 bytes
		batch = append(batch, e)
		if len(batch) == cap(batch) {
			if err := s.Put(ctx, batch...); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	closeBadger(t, s)
	s = openBadger(t, dir, memo.Options{})
	if err := s.GC(ctx); err != nil {
		t.Fatal(err)
	}
	closeBadger(t, s)
	s = openBadger(t, dir, memo.Options{})
	defer closeBadger(t, s)
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != n {
		t.Fatalf("%d entries, want %d", st.Entries, n)
	}
	t.Logf("%d entries of 16-byte results after GC: %d bytes on disk (LSM %d, value log %d, other %d): %.1f bytes per entry",
		n, st.DiskBytes(), st.LSMBytes, st.VlogBytes, st.OtherBytes, float64(st.DiskBytes())/n)
}

func TestBadgerPutAsync(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b, err := memo.Open(dir, memo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		e := memo.Entry{Key: memo.Key{byte(i), byte(i >> 8), 1}, App: "a", Value: []byte{byte(i)}}
		b.PutAsync([]memo.Entry{e}, func(err error) { errs <- err })
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b, err = memo.Open(dir, memo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i := 0; i < n; i++ {
		if _, ok, err := b.Get(context.Background(), memo.Key{byte(i), byte(i >> 8), 1}); !ok || err != nil {
			t.Fatalf("entry %d after reopen: ok=%v err=%v", i, ok, err)
		}
	}
	// After Close, PutAsync reports the error instead of blocking.
	done := make(chan error, 1)
	_ = b.Close()
	b.PutAsync([]memo.Entry{{Key: memo.Key{9}, App: "a"}}, func(err error) { done <- err })
	if err := <-done; err == nil {
		t.Error("PutAsync on a closed store succeeded")
	}
}
