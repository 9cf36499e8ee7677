package memo

import (
	"context"
	"fmt"
)

// Writes go to the results log (journal.go); this file is the Store side
// of them.

func (b *Badger) Put(ctx context.Context, es ...Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkSizes(es); err != nil {
		return err
	}
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	if len(es) == 0 {
		return nil
	}
	done := make(chan error, 1)
	b.journal.put(es, func(err error) { done <- err })
	return wait(ctx, done)
}

// PutAsync queues the entries and returns at once; done is called, on the
// goroutine that answers the log's writes, once they are durable or
// failed. It lets a
// caller with many results in flight (the DFK with
// checkpoint_mode="task_exit") have them share syncs without a goroutine
// waiting for each. done must be quick and must not call the store.
func (b *Badger) PutAsync(es []Entry, done func(error)) {
	if err := checkSizes(es); err != nil {
		done(err)
		return
	}
	if err := b.enter(); err != nil {
		done(err)
		return
	}
	defer b.leave()
	b.journal.put(es, done)
}

func (b *Badger) Delete(ctx context.Context, keys ...Key) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	if len(keys) == 0 {
		return nil
	}
	done := make(chan error, 1)
	b.journal.delete(keys, func(err error) { done <- err })
	return wait(ctx, done)
}

// wait waits for a write's outcome. Given up on, the write still happens.
func wait(ctx context.Context, done <-chan error) error {
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkSizes refuses an entry too large for a store entry, before any of
// the call's entries is written.
func checkSizes(es []Entry) error {
	for i := range es {
		e := &es[i]
		if n := maxFrame + len(e.App) + len(e.Run) + len(e.Value); n > MaxEntrySize {
			return fmt.Errorf("memo put %s (%s): entry is %d bytes, more than the %d a store entry may hold",
				e.Key, e.App, n, MaxEntrySize)
		}
	}
	return nil
}
