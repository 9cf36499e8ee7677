package memo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Group commit. A durable write costs an fsync, a millisecond or more on
// the disks of a cluster, while a no-op task costs microseconds. So every
// Put and Delete goes to one committer goroutine, which takes whatever has
// queued up while it was syncing, writes it all in one transaction, syncs
// once, and then answers every caller in the batch. Under load a sync
// serves many tasks; alone, a Put costs one sync, as it must.

// writeReq is one Put or Delete waiting for the committer.
type writeReq struct {
	puts   []encoded
	dels   []Key
	done   chan error  // buffered: the committer never waits for a caller
	notify func(error) // instead of done, for PutAsync
}

type encoded struct{ key, val []byte }

// maxBatch bounds the requests one sync serves, so that the first caller
// of a huge batch does not wait for all of it.
const maxBatch = 1024

func (b *Badger) Put(ctx context.Context, es ...Entry) error {
	r, err := newPutReq(es)
	if err != nil {
		return err
	}
	r.done = make(chan error, 1)
	return b.submit(ctx, r)
}

// PutAsync queues the entries and returns at once; done is called, on the
// committer's goroutine, once they are durable or failed. It lets a caller
// with many results in flight (the DFK with checkpoint_mode="task_exit")
// have them share syncs without a goroutine waiting for each. done must be
// quick and must not call the store.
func (b *Badger) PutAsync(es []Entry, done func(error)) {
	r, err := newPutReq(es)
	if err != nil {
		done(err)
		return
	}
	r.notify = done
	if err := b.enter(); err != nil {
		done(err)
		return
	}
	defer b.leave()
	b.queue <- r
}

func newPutReq(es []Entry) (*writeReq, error) {
	now := time.Now()
	r := &writeReq{puts: make([]encoded, len(es))}
	// Encoding happens here, in the callers' goroutines, not in the one
	// committer.
	for i, e := range es {
		e = normalize(e, now)
		val := encodeEntry(nil, e)
		if len(val) > MaxEntrySize {
			return nil, fmt.Errorf("memo put %s (%s): entry is %d bytes, more than the %d a store entry may hold",
				e.Key, e.App, len(val), MaxEntrySize)
		}
		r.puts[i] = encoded{dbKey(e.Key), val}
	}
	return r, nil
}

func (b *Badger) Delete(ctx context.Context, keys ...Key) error {
	r := &writeReq{dels: keys, done: make(chan error, 1)}
	return b.submit(ctx, r)
}

func (b *Badger) submit(ctx context.Context, r *writeReq) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	if len(r.puts) == 0 && len(r.dels) == 0 {
		return nil
	}
	// Close cannot close the queue while this request is active, so the
	// send is safe.
	select {
	case b.queue <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// commitLoop is the committer. It exits when Close closes the queue, after
// writing everything queued before that.
func (b *Badger) commitLoop() {
	defer close(b.committed)
	batch := make([]*writeReq, 0, maxBatch)
	for r := range b.queue {
		batch = append(batch[:0], r)
	drain:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-b.queue:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		err := b.write(batch)
		if err != nil {
			err = fmt.Errorf("memo store %s: write: %w", b.dir, err)
		}
		for _, r := range batch {
			if r.notify != nil {
				r.notify(err)
			} else {
				r.done <- err
			}
		}
		clear(batch) // let the requests' buffers go
	}
}

// write applies the batch in order and syncs. A batch larger than one
// Badger transaction takes several; the sync at the end covers them all.
// An error fails the whole batch, whatever part of it was written.
func (b *Badger) write(batch []*writeReq) error {
	txn := b.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	apply := func(op func(*badger.Txn) error) error {
		err := op(txn)
		if errors.Is(err, badger.ErrTxnTooBig) {
			if err := txn.Commit(); err != nil {
				return err
			}
			txn = b.db.NewTransaction(true)
			err = op(txn)
		}
		return err
	}
	for _, r := range batch {
		for _, p := range r.puts {
			if err := apply(func(t *badger.Txn) error { return t.Set(p.key, p.val) }); err != nil {
				return err
			}
		}
		for _, k := range r.dels {
			if err := apply(func(t *badger.Txn) error { return t.Delete(dbKey(k)) }); err != nil {
				return err
			}
		}
	}
	if err := txn.Commit(); err != nil {
		return err
	}
	return b.db.Sync()
}
