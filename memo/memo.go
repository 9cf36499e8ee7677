// Package memo is starflow's durable memo store: it maps a task's key (a
// hash its caller derives from the app and its inputs) to the encoded result
// of the task, so that a rerun after a crash executes only what did not
// finish.
//
// The package knows nothing about Starlark or tasks: keys and values are
// opaque bytes. Store is the one contract; Memory keeps entries for one run
// (checkpoint_mode=None and tests) and Badger keeps them on disk, shared by
// the runs of a project. Both pass the conformance suite in memo/memotest.
//
// On disk a store is a Badger database and a results log beside it. Puts
// and Deletes are appended to the log, many to one fdatasync (journal.go),
// and folded into the database later, in bulk (fold.go); lookups consult
// the log's in-memory index first, then the database, which a run that
// looks up many keys copies into memory when it is small enough
// (preload.go). What "durable" means, for a Put that
// has returned: the record is in a log segment synced with fdatasync,
// whose name was synced into its folder when the segment was created, so
// it survives the process being killed and the machine losing power. A
// fold writes the database with Badger's SyncWrites, which syncs each
// commit (Badger's Sync alone covers only the active memtable's log, not
// a full memtable waiting for its flush), and only then removes the
// segment.
package memo

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Key identifies a memoized result: the sha256 of a canonical encoding of
// everything the result depends on, computed by the caller.
type Key [32]byte

// String returns the key in lowercase hex.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// ParseKey parses the 64 hex digits that Key.String returns.
func ParseKey(s string) (Key, error) {
	var k Key
	if len(s) != 2*len(k) {
		return k, fmt.Errorf("memo key %q: want %d hex digits, got %d", s, 2*len(k), len(s))
	}
	if _, err := hex.Decode(k[:], []byte(s)); err != nil {
		return k, fmt.Errorf("memo key %q: %w", s, err)
	}
	return k, nil
}

// KeyPrefix is the start of a key's hex form, as a user types it to
// `starflow memo show`.
type KeyPrefix string

// ParseKeyPrefix checks that s is 1 to 64 hex digits; case is ignored.
func ParseKeyPrefix(s string) (KeyPrefix, error) {
	s = strings.ToLower(s)
	if s == "" || len(s) > 2*len(Key{}) {
		return "", fmt.Errorf("memo key prefix %q: want 1 to %d hex digits", s, 2*len(Key{}))
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", fmt.Errorf("memo key prefix %q: %q is not a hex digit", s, c)
		}
	}
	return KeyPrefix(s), nil
}

// Match reports whether k starts with p.
func (p KeyPrefix) Match(k Key) bool { return strings.HasPrefix(k.String(), string(p)) }

// ErrNotFound is returned by Lookup when no entry matches.
var ErrNotFound = errors.New("no memo entry")

// ErrClosed is returned by every operation on a closed Store.
var ErrClosed = errors.New("memo store closed")

// Lookup returns the one entry whose key starts with p. Several matches are
// an error that lists them, so the user can type a longer prefix.
func Lookup(ctx context.Context, s Store, p KeyPrefix) (Entry, error) {
	var found []Entry
	err := s.Scan(ctx, func(e Entry) error {
		if p.Match(e.Key) {
			found = append(found, e)
		}
		return nil
	})
	switch {
	case err != nil:
		return Entry{}, err
	case len(found) == 0:
		return Entry{}, fmt.Errorf("memo key %s: %w", p, ErrNotFound)
	case len(found) > 1:
		keys := make([]string, len(found))
		for i, e := range found {
			keys[i] = e.Key.String()
		}
		return Entry{}, fmt.Errorf("memo key %s is ambiguous: it starts %d keys: %s", p, len(found), strings.Join(keys, ", "))
	}
	return found[0], nil
}

// Entry is one memoized result and what `starflow memo ls` shows about it.
type Entry struct {
	Key     Key
	App     string    // the app's name, for `memo ls --app`
	Run     string    // the run folder that produced it, e.g. "runinfo/003"
	Created time.Time // set by Put when zero; kept to the nanosecond, in UTC
	Value   []byte    // the encoded result, opaque to this package
}

// Store is the memo store. Implementations are safe for concurrent use.
type Store interface {
	// Get returns the entry stored under k. A missing entry, and an entry
	// found damaged (which is reported once, never returned), are misses:
	// ok is false and err nil.
	Get(ctx context.Context, k Key) (e Entry, ok bool, err error)
	// Put stores the entries, replacing any under the same keys. When it
	// returns nil they are durable: a crash of the process after that loses
	// none of them. If ctx ends first Put returns its error, and the entries
	// may or may not have been stored.
	Put(ctx context.Context, es ...Entry) error
	// Delete removes the entries under keys; absent keys are no error. It
	// is durable when it returns, as Put is.
	Delete(ctx context.Context, keys ...Key) error
	// Scan calls fn for every entry in key order, and stops at the first
	// error fn returns, which Scan returns. fn may call the store's other
	// methods; whether Scan then sees their changes is unspecified.
	Scan(ctx context.Context, fn func(Entry) error) error
	// Close releases the store. Puts in flight finish first; operations
	// after Close return ErrClosed. Closing twice is no error.
	Close() error
}

// normalize gives every entry the form a store returns, so that Memory and
// Badger agree to the bit: Created in UTC without a monotonic reading, and
// a zero Created replaced by now.
func normalize(e Entry, now time.Time) Entry {
	if e.Created.IsZero() {
		e.Created = now
	}
	e.Created = time.Unix(0, e.Created.UnixNano()).UTC()
	return e
}
