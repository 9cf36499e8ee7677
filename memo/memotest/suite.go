// Package memotest is the conformance suite every memo.Store passes: the
// in-memory store and the Badger store run the same tests, so that a run
// with checkpoint_mode=None behaves as one with a durable store.
package memotest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/memo"
)

// Run runs the suite. open returns a new, empty store for each test; the
// suite closes it.
func Run(t *testing.T, open func(t *testing.T) memo.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, memo.Store)
	}{
		{"GetMissing", testGetMissing},
		{"PutGet", testPutGet},
		{"ZeroCreated", testZeroCreated},
		{"Overwrite", testOverwrite},
		{"PutMany", testPutMany},
		{"Values", testValues},
		{"Delete", testDelete},
		{"ScanOrder", testScanOrder},
		{"ScanStops", testScanStops},
		{"ScanReentrant", testScanReentrant},
		{"Concurrent", testConcurrent},
		{"Canceled", testCanceled},
		{"Lookup", testLookup},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// K returns a key derived from name, so tests read as names.
func K(name string) memo.Key { return sha256.Sum256([]byte(name)) }

// E returns a small entry under K(name).
func E(name string) memo.Entry {
	return memo.Entry{
		Key:     K(name),
		App:     "app",
		Run:     "runinfo/000",
		Created: time.Date(2026, 9, 1, 12, 0, 0, 123456789, time.UTC),
		Value:   []byte("value of " + name),
	}
}

var ctx = context.Background()

func put(t *testing.T, s memo.Store, es ...memo.Entry) {
	t.Helper()
	if err := s.Put(ctx, es...); err != nil {
		t.Fatalf("Put: %v", err)
	}
}

func get(t *testing.T, s memo.Store, k memo.Key) (memo.Entry, bool) {
	t.Helper()
	e, ok, err := s.Get(ctx, k)
	if err != nil {
		t.Fatalf("Get(%s): %v", k, err)
	}
	return e, ok
}

func mustGet(t *testing.T, s memo.Store, k memo.Key) memo.Entry {
	t.Helper()
	e, ok := get(t, s, k)
	if !ok {
		t.Fatalf("Get(%s): miss, want a hit", k)
	}
	return e
}

func scanAll(t *testing.T, s memo.Store) []memo.Entry {
	t.Helper()
	var es []memo.Entry
	if err := s.Scan(ctx, func(e memo.Entry) error { es = append(es, e); return nil }); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return es
}

// Equal reports how got differs from want, or "" when they are the same
// entry. Created is compared with ==, not Equal: stores return it in one
// representation (UTC, no monotonic reading).
func Equal(got, want memo.Entry) string {
	var diffs []string
	if got.Key != want.Key {
		diffs = append(diffs, fmt.Sprintf("Key %s, want %s", got.Key, want.Key))
	}
	if got.App != want.App {
		diffs = append(diffs, fmt.Sprintf("App %q, want %q", got.App, want.App))
	}
	if got.Run != want.Run {
		diffs = append(diffs, fmt.Sprintf("Run %q, want %q", got.Run, want.Run))
	}
	if got.Created != want.Created {
		diffs = append(diffs, fmt.Sprintf("Created %v, want %v", got.Created, want.Created))
	}
	if !bytes.Equal(got.Value, want.Value) {
		diffs = append(diffs, fmt.Sprintf("Value %.40q, want %.40q", got.Value, want.Value))
	}
	return strings.Join(diffs, "; ")
}

func testGetMissing(t *testing.T, s memo.Store) {
	if _, ok := get(t, s, K("nothing")); ok {
		t.Error("Get of a key never put: hit")
	}
	if es := scanAll(t, s); len(es) != 0 {
		t.Errorf("Scan of an empty store: %d entries", len(es))
	}
}

func testPutGet(t *testing.T, s memo.Store) {
	want := E("a")
	// The store must copy the value: the caller may reuse its buffer.
	in := want
	in.Value = bytes.Clone(want.Value)
	// A Created in another zone with a monotonic reading comes back as the
	// same instant in UTC.
	in.Created = want.Created.In(time.FixedZone("CEST", 2*3600))
	put(t, s, in)
	in.Value[0] = 'X'

	got := mustGet(t, s, want.Key)
	if d := Equal(got, want); d != "" {
		t.Fatalf("Get after Put: %s", d)
	}
	got.Value[0] = 'Y' // nor may the caller's changes reach the store
	if d := Equal(mustGet(t, s, want.Key), want); d != "" {
		t.Errorf("Get after changing a returned value: %s", d)
	}
	if _, ok := get(t, s, K("b")); ok {
		t.Error("Get of another key: hit")
	}
}

func testZeroCreated(t *testing.T, s memo.Store) {
	e := E("a")
	e.Created = time.Time{}
	before := time.Now().Add(-time.Second)
	put(t, s, e)
	after := time.Now().Add(time.Second)
	got := mustGet(t, s, e.Key).Created
	if got.Before(before) || got.After(after) || got.Location() != time.UTC {
		t.Errorf("Created of an entry put with none: %v, want about now, in UTC", got)
	}
}

func testOverwrite(t *testing.T, s memo.Store) {
	first, second := E("a"), E("a")
	second.Value, second.Run = []byte("second"), "runinfo/001"
	put(t, s, first)
	put(t, s, second)
	if d := Equal(mustGet(t, s, first.Key), second); d != "" {
		t.Errorf("Get after two Puts: %s", d)
	}
	if n := len(scanAll(t, s)); n != 1 {
		t.Errorf("Scan after two Puts of one key: %d entries, want 1", n)
	}
}

func testPutMany(t *testing.T, s memo.Store) {
	var es []memo.Entry
	for i := range 1000 {
		es = append(es, E(fmt.Sprint(i)))
	}
	last := E("7")
	last.Value = []byte("last wins")
	put(t, s, append(es, last)...)
	put(t, s) // nothing to put is no error
	if n := len(scanAll(t, s)); n != len(es) {
		t.Errorf("Scan: %d entries, want %d", n, len(es))
	}
	if d := Equal(mustGet(t, s, last.Key), last); d != "" {
		t.Errorf("a key put twice in one call: %s", d)
	}
}

func testValues(t *testing.T, s memo.Store) {
	large := make([]byte, 3<<20) // beyond any inline threshold
	for i := range large {
		large[i] = byte(i * 7)
	}
	cases := map[string]memo.Entry{
		"nil":     {App: "a", Value: nil},
		"empty":   {App: "a", Value: []byte{}},
		"binary":  {App: "a", Value: []byte{0, 0xff, 0, '\n', 0x80}},
		"large":   {App: "a", Value: large},
		"unicode": {App: "模拟_σ", Run: "runinfo/ünï", Value: []byte("✓")},
		"no app":  {},
		"old":     {App: "a", Created: time.Date(1970, 1, 1, 0, 0, 0, 1, time.UTC)},
	}
	for name, e := range cases {
		e.Key = K(name)
		if e.Created.IsZero() {
			e.Created = E(name).Created
		}
		put(t, s, e)
		cases[name] = e
	}
	for name, want := range cases {
		if d := Equal(mustGet(t, s, want.Key), want); d != "" {
			t.Errorf("%s: %s", name, d)
		}
	}
}

func testDelete(t *testing.T, s memo.Store) {
	put(t, s, E("a"), E("b"), E("c"))
	if err := s.Delete(ctx, K("a"), K("never"), K("c")); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Delete(ctx); err != nil {
		t.Fatalf("Delete of nothing: %v", err)
	}
	for _, name := range []string{"a", "c", "never"} {
		if _, ok := get(t, s, K(name)); ok {
			t.Errorf("Get(%s) after Delete: hit", name)
		}
	}
	es := scanAll(t, s)
	if len(es) != 1 || es[0].Key != K("b") {
		t.Errorf("Scan after Delete: %d entries, want only b", len(es))
	}
	put(t, s, E("a"))
	mustGet(t, s, K("a")) // a deleted key can be put again
}

func testScanOrder(t *testing.T, s memo.Store) {
	want := map[memo.Key]memo.Entry{}
	for i := range 300 {
		e := E(fmt.Sprint(i))
		e.App = fmt.Sprintf("app%d", i%3)
		want[e.Key] = e
		put(t, s, e)
	}
	got := scanAll(t, s)
	if len(got) != len(want) {
		t.Fatalf("Scan: %d entries, want %d", len(got), len(want))
	}
	if !slices.IsSortedFunc(got, func(a, b memo.Entry) int { return bytes.Compare(a.Key[:], b.Key[:]) }) {
		t.Error("Scan: entries not in key order")
	}
	for _, e := range got {
		if d := Equal(e, want[e.Key]); d != "" {
			t.Errorf("Scan: %s", d)
		}
	}
}

func testScanStops(t *testing.T, s memo.Store) {
	put(t, s, E("a"), E("b"), E("c"))
	stop := errors.New("stop")
	calls := 0
	err := s.Scan(ctx, func(memo.Entry) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Scan with fn failing: err %v after %d calls, want %v after 1", err, calls, stop)
	}
}

// A Scan callback may use the store, as `memo clear --app` does.
func testScanReentrant(t *testing.T, s memo.Store) {
	put(t, s, E("a"), E("b"), E("c"))
	err := s.Scan(ctx, func(e memo.Entry) error {
		if _, _, err := s.Get(ctx, e.Key); err != nil {
			return err
		}
		if err := s.Put(ctx, E("new "+e.Key.String())); err != nil {
			return err
		}
		return s.Delete(ctx, e.Key)
	})
	if err != nil {
		t.Fatalf("Scan calling the store: %v", err)
	}
	for _, name := range []string{"a", "b", "c"} {
		if _, ok := get(t, s, K(name)); ok {
			t.Errorf("%s deleted during Scan: still there", name)
		}
	}
}

func testConcurrent(t *testing.T, s memo.Store) {
	const workers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				e := E(fmt.Sprintf("%d/%d", w, i))
				if err := s.Put(ctx, e); err != nil {
					errs <- err
					return
				}
				// What a Put made durable, a Get sees at once.
				got, ok, err := s.Get(ctx, e.Key)
				if err != nil || !ok || Equal(got, e) != "" {
					errs <- fmt.Errorf("Get after Put of %d/%d: ok=%v err=%v %s", w, i, ok, err, Equal(got, e))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(scanAll(t, s)); n != workers*each {
		t.Errorf("Scan after concurrent Puts: %d entries, want %d", n, workers*each)
	}
}

func testCanceled(t *testing.T, s memo.Store) {
	put(t, s, E("a"))
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.Get(c, K("a")); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a canceled context: %v", err)
	}
	if err := s.Put(c, E("b")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a canceled context: %v", err)
	}
	if err := s.Delete(c, K("a")); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a canceled context: %v", err)
	}
	if err := s.Scan(c, func(memo.Entry) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan with a canceled context: %v", err)
	}
	mustGet(t, s, K("a"))
}

func testLookup(t *testing.T, s memo.Store) {
	var es []memo.Entry
	for i := range 64 {
		es = append(es, E(fmt.Sprint(i)))
	}
	put(t, s, es...)
	full := es[0].Key.String()
	for _, n := range []int{64, 12} {
		p, err := memo.ParseKeyPrefix(strings.ToUpper(full[:n]))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := memo.Lookup(ctx, s, p); err != nil || got.Key != es[0].Key {
			t.Errorf("Lookup(%s): %s, %v", p, got.Key, err)
		}
	}
	// Two keys of the 64 start with the same hex digit (16 digits, 64
	// keys), and that digit is ambiguous.
	first := map[byte]bool{}
	var shared string
	for _, e := range es {
		c := e.Key.String()[0]
		if first[c] {
			shared = string(c)
			break
		}
		first[c] = true
	}
	p, _ := memo.ParseKeyPrefix(shared)
	if _, err := memo.Lookup(ctx, s, p); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("Lookup(%s): %v, want ambiguous", p, err)
	}
	p, _ = memo.ParseKeyPrefix(K("absent").String())
	if _, err := memo.Lookup(ctx, s, p); !errors.Is(err, memo.ErrNotFound) {
		t.Errorf("Lookup of an absent key: %v, want ErrNotFound", err)
	}
}

func testClosed(t *testing.T, s memo.Store) {
	put(t, s, E("a"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, _, err := s.Get(ctx, K("a")); !errors.Is(err, memo.ErrClosed) {
		t.Errorf("Get after Close: %v", err)
	}
	if err := s.Put(ctx, E("b")); !errors.Is(err, memo.ErrClosed) {
		t.Errorf("Put after Close: %v", err)
	}
	if err := s.Delete(ctx, K("a")); !errors.Is(err, memo.ErrClosed) {
		t.Errorf("Delete after Close: %v", err)
	}
	if err := s.Scan(ctx, func(memo.Entry) error { return nil }); !errors.Is(err, memo.ErrClosed) {
		t.Errorf("Scan after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
