package memo

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"
)

// Memory is a Store that keeps its entries in the process, for one run
// (checkpoint_mode=None) and for tests.
type Memory struct {
	mu      sync.RWMutex
	entries map[Key]Entry
	closed  bool
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{entries: make(map[Key]Entry)} }

func (m *Memory) Get(ctx context.Context, k Key) (Entry, bool, error) {
	if err := ctx.Err(); err != nil {
		return Entry{}, false, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return Entry{}, false, ErrClosed
	}
	e, ok := m.entries[k]
	if !ok {
		return Entry{}, false, nil
	}
	e.Value = bytes.Clone(e.Value)
	return e, true, nil
}

func (m *Memory) Put(ctx context.Context, es ...Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	for _, e := range es {
		e = normalize(e, now)
		// The caller may reuse its buffer; Badger copies too.
		e.Value = bytes.Clone(e.Value)
		m.entries[e.Key] = e
	}
	return nil
}

func (m *Memory) Delete(ctx context.Context, keys ...Key) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	for _, k := range keys {
		delete(m.entries, k)
	}
	return nil
}

// Scan works on a snapshot taken under the lock, so fn may call the store.
func (m *Memory) Scan(ctx context.Context, fn func(Entry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return ErrClosed
	}
	snapshot := make([]Entry, 0, len(m.entries))
	for _, e := range m.entries {
		snapshot = append(snapshot, e)
	}
	m.mu.RUnlock()
	slices.SortFunc(snapshot, func(a, b Entry) int { return bytes.Compare(a.Key[:], b.Key[:]) })
	for _, e := range snapshot {
		if err := ctx.Err(); err != nil {
			return err
		}
		e.Value = bytes.Clone(e.Value)
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.entries = nil
	return nil
}
