package memo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// The results log: what a crash, damage, a fold and a fold cut short leave
// behind, and what a store opened over them finds.

func logEntry(name string) Entry {
	return Entry{
		Key:     sha256.Sum256([]byte(name)),
		App:     "app",
		Run:     "runinfo/000",
		Created: time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC),
		Value:   []byte("value of " + name),
	}
}

func mustOpen(t *testing.T, dir string, opts Options) *Badger {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustClose(t *testing.T, s *Badger) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// noDamage fails the test on any report of a damaged entry.
func noDamage(t *testing.T) Options {
	return Options{OnDamaged: func(k Key, err error) { t.Errorf("damaged entry %s reported: %v", k, err) }}
}

// checkEntries checks that the store holds exactly the named entries, as
// logEntry makes them.
func checkEntries(t *testing.T, s *Badger, present, absent []string) {
	t.Helper()
	checkReplaced(t, s, present, absent, nil)
}

// checkReplaced is checkEntries where some entries were replaced: by name,
// the value they hold now.
func checkReplaced(t *testing.T, s *Badger, present, absent []string, replaced map[string]string) {
	t.Helper()
	ctx := context.Background()
	for _, name := range present {
		want := logEntry(name)
		if v, ok := replaced[name]; ok {
			want.Value = []byte(v)
		}
		got, ok, err := s.Get(ctx, want.Key)
		if err != nil || !ok {
			t.Errorf("Get %s: ok=%v err=%v, want a hit", name, ok, err)
			continue
		}
		if got.App != want.App || got.Run != want.Run || !got.Created.Equal(want.Created) || !bytes.Equal(got.Value, want.Value) {
			t.Errorf("Get %s: %+v, want %+v", name, got, want)
		}
	}
	for _, name := range absent {
		if _, ok, err := s.Get(ctx, logEntry(name).Key); ok || err != nil {
			t.Errorf("Get %s: ok=%v err=%v, want a miss", name, ok, err)
		}
	}
	n := 0
	if err := s.Scan(ctx, func(Entry) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != len(present) {
		t.Errorf("Scan: %d entries, want %d", n, len(present))
	}
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func putNames(t *testing.T, s *Badger, ns []string) {
	t.Helper()
	for _, n := range ns {
		if err := s.Put(context.Background(), logEntry(n)); err != nil {
			t.Fatal(err)
		}
	}
}

func deleteNames(t *testing.T, s *Badger, ns []string) {
	t.Helper()
	for _, n := range ns {
		if err := s.Delete(context.Background(), logEntry(n).Key); err != nil {
			t.Fatal(err)
		}
	}
}

func segmentFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, logDirName, "*"+segmentExt))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// A process killed in the middle of a write leaves part of a record at
// the end of its segment: that write was never reported durable, so it is
// no damage, and every record before it is there.
func TestLogTornTail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustOpen(t, dir, noDamage(t))
	putNames(t, s, names("a", 50))
	mustClose(t, s)
	seg := segmentFiles(t, dir)[0]
	whole := appendPutRecord(nil, new(logEntry("torn")), 1)
	for _, cut := range []int{1, recHeader - 1, recHeader + 3, len(whole) - 1} {
		f, err := os.OpenFile(seg, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		if _, err := f.Write(whole[:cut]); err != nil {
			t.Fatal(err)
		}
		f.Close()

		s = mustOpen(t, dir, noDamage(t))
		checkEntries(t, s, names("a", 50), []string{"torn"})
		mustClose(t, s)
		if err := os.Truncate(seg, fi.Size()); err != nil {
			t.Fatal(err)
		}
	}
	// Writes after a torn tail go to a segment of their own.
	s = mustOpen(t, dir, noDamage(t))
	putNames(t, s, []string{"after"})
	mustClose(t, s)
	s = mustOpen(t, dir, noDamage(t))
	defer mustClose(t, s)
	checkEntries(t, s, append(names("a", 50), "after"), nil)
}

// A damaged record costs that record only: reading resumes at the next
// one, whether the damage hit the body or the length that says where the
// next one starts. The damaged key reads as a miss and is reported once.
func TestLogDamagedRecord(t *testing.T) {
	t.Parallel()
	for name, damage := range map[string]func(rec []byte){
		"body":   func(rec []byte) { rec[len(rec)-2] ^= 0x01 },
		"length": func(rec []byte) { rec[5] ^= 0x01 },
		"huge":   func(rec []byte) { binary.LittleEndian.PutUint32(rec[5:], 1<<31) },
		"kind":   func(rec []byte) { rec[4] = 0x7f },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := mustOpen(t, dir, noDamage(t))
			putNames(t, s, []string{"before", "victim", "after"})
			mustClose(t, s)
			seg := segmentFiles(t, dir)[0]
			b, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			victim := appendPutRecord(nil, new(logEntry("victim")), logEntry("victim").Created.UnixNano())
			at := bytes.Index(b, victim)
			if at < 0 {
				t.Fatal("victim's record not found in the segment")
			}
			damage(b[at : at+len(victim)])
			if err := os.WriteFile(seg, b, 0o644); err != nil {
				t.Fatal(err)
			}

			var mu sync.Mutex
			var reports []Key
			s = mustOpen(t, dir, Options{OnDamaged: func(k Key, err error) {
				mu.Lock()
				defer mu.Unlock()
				if !errors.Is(err, errCorrupt) {
					t.Errorf("report of %s: %v, want errCorrupt", k, err)
				}
				reports = append(reports, k)
			}})
			defer mustClose(t, s)
			checkEntries(t, s, []string{"before", "after"}, []string{"victim"})
			mu.Lock()
			defer mu.Unlock()
			// A length past all bounds leaves no readable header: the bytes
			// are skipped with a warning, not reported as an entry.
			if name != "huge" && name != "kind" && (len(reports) != 1 || reports[0] != logEntry("victim").Key) {
				t.Errorf("reports %v, want one, of victim", reports)
			}
			// The task runs again and its Put replaces the damaged record.
			putNames(t, s, []string{"victim"})
			checkEntries(t, s, []string{"before", "victim", "after"}, nil)
		})
	}
}

// A fold moves the log into the database: the segments go, the entries
// (and the deletes) stay as they were, across reopening.
func TestLogFold(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustOpen(t, dir, noDamage(t))
	putNames(t, s, names("p", 300))
	mustClose(t, s)
	// A second run: more entries, some deletes, one replaced.
	s = mustOpen(t, dir, noDamage(t))
	putNames(t, s, names("q", 100))
	deleteNames(t, s, names("p", 50))
	replaced := logEntry("p60")
	replaced.Value = []byte("second value")
	if err := s.Put(context.Background(), replaced); err != nil {
		t.Fatal(err)
	}
	mustClose(t, s)

	present := append(names("p", 300)[50:], names("q", 100)...)
	s = mustOpen(t, dir, noDamage(t))
	if err := s.GC(context.Background()); err != nil {
		t.Fatal(err)
	}
	if files := segmentFiles(t, dir); len(files) != 0 {
		t.Errorf("after GC: log segments %v, want none", files)
	}
	mustClose(t, s)
	s = mustOpen(t, dir, noDamage(t))
	defer mustClose(t, s)
	checkReplaced(t, s, present, names("p", 50), map[string]string{"p60": "second value"})
}

// A crash after a fold wrote the database but before it removed the
// segments leaves them to be read, and folded, again: the store is the
// same. (Segments are removed oldest first, so what is left is always the
// newest ones.)
func TestLogFoldInterrupted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustOpen(t, dir, noDamage(t))
	putNames(t, s, names("x", 100))
	mustClose(t, s)
	s = mustOpen(t, dir, noDamage(t))
	deleteNames(t, s, names("x", 30))
	putNames(t, s, names("y", 20))
	mustClose(t, s)

	saved := map[string][]byte{}
	files := segmentFiles(t, dir)
	if len(files) != 2 {
		t.Fatalf("segments %v, want one per run", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		saved[f] = b
	}
	s = mustOpen(t, dir, noDamage(t))
	if err := s.GC(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustClose(t, s)

	present := append(names("x", 100)[30:], names("y", 20)...)
	for _, left := range [][]string{files, files[1:]} {
		for _, f := range left {
			if err := os.WriteFile(f, saved[f], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		s = mustOpen(t, dir, noDamage(t))
		checkEntries(t, s, present, names("x", 30))
		if err := s.GC(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkEntries(t, s, present, names("x", 30))
		mustClose(t, s)
	}
}

// A store opened over more log than the policy allows folds it in the
// background, and answers the same before, during and after; closing it
// meanwhile stops the fold and loses nothing.
func TestLogBackgroundFold(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var present []string
	for run := range 4 {
		s := mustOpen(t, dir, noDamage(t))
		ns := names(fmt.Sprintf("r%d-", run), 200)
		putNames(t, s, ns)
		present = append(present, ns...)
		mustClose(t, s)
	}
	policy := &foldPolicy{bytes: 1 << 40, segments: 2}
	// Closed at once: whatever the fold did, the next open finds it all.
	s := mustOpen(t, dir, Options{OnDamaged: noDamage(t).OnDamaged, foldAt: policy})
	mustClose(t, s)

	s = mustOpen(t, dir, Options{OnDamaged: noDamage(t).OnDamaged, foldAt: policy})
	defer mustClose(t, s)
	checkEntries(t, s, present, nil)
	deadline := time.Now().Add(time.Minute)
	for len(segmentFiles(t, dir)) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if files := segmentFiles(t, dir); len(files) != 0 {
		t.Fatalf("segments left after the background fold: %v", files)
	}
	checkEntries(t, s, present, nil)
	// The filter of the database's keys knows the folded ones.
	putNames(t, s, []string{"new"})
	checkEntries(t, s, append(present, "new"), []string{"never"})
}

// A store written by the starflow before the results log opens, and is
// marked as one the older starflow must not open any more.
func TestFormatUpgrade(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, formatFile), []byte(formatMagic+"\nformat 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustClose(t, mustOpen(t, dir, noDamage(t)))
	b, err := os.ReadFile(filepath.Join(dir, formatFile))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := parseFormat(string(b)); err != nil || v != FormatVersion {
		t.Errorf("FORMAT after opening a format 1 store: %q (%v), want format %d", b, err, FormatVersion)
	}
}

// FuzzScanRecords feeds arbitrary bytes to the segment reader: it must
// never panic, and every record it yields must be one that checks out.
func FuzzScanRecords(f *testing.F) {
	e := logEntry("fuzz")
	good := appendPutRecord(nil, &e, 1)
	good = appendDeleteRecord(good, e.Key)
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(append(bytes.Clone(good[:20]), good...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		end := scanRecords(b, func(r record) {
			if r.off < int64(recHeader) || r.off+int64(len(r.body)) > int64(len(b)) {
				t.Fatalf("record body at %d+%d outside %d bytes", r.off, len(r.body), len(b))
			}
			if _, _, err := parseRecord(b[r.off-int64(recHeader):]); err != nil {
				t.Fatalf("yielded a record that does not parse: %v", err)
			}
		}, func(Key, error) {})
		if end < 0 || end > len(b) {
			t.Fatalf("end %d outside %d bytes", end, len(b))
		}
	})
}
