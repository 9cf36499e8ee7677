package memo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Group commit. A durable write costs an fsync, a millisecond or more on
// the disks of a cluster, while a no-op task costs microseconds. So every
// Put and Delete goes to one committer goroutine, which takes whatever has
// queued up, writes it in one transaction and passes it to the syncer
// goroutine; the syncer syncs once for every batch written since its last
// sync, and then answers their callers. Under load a sync serves many
// tasks, and the next batch is written while it runs; alone, a Put costs
// one sync, as it must.

// writeReq is one Put or Delete waiting for the committer.
type writeReq struct {
	puts   []encoded
	dels   []Key
	done   chan error  // buffered: the syncer never waits for a caller
	notify func(error) // instead of done, for PutAsync
}

type encoded struct{ key, val []byte }

// maxBatch bounds the requests one transaction holds, so that the first
// caller of a huge batch does not wait for all of it.
const maxBatch = 1024

// syncBacklog bounds the batches written but not yet synced: past it the
// committer waits for the syncer, and callers, through the queue, for it.
const syncBacklog = 8

func (b *Badger) Put(ctx context.Context, es ...Entry) error {
	r, err := b.newPutReq(es)
	if err != nil {
		return err
	}
	r.done = make(chan error, 1)
	return b.submit(ctx, r)
}

// PutAsync queues the entries and returns at once; done is called, on the
// syncer's goroutine, once they are durable or failed. It lets a caller
// with many results in flight (the DFK with checkpoint_mode="task_exit")
// have them share syncs without a goroutine waiting for each. done must be
// quick and must not call the store.
func (b *Badger) PutAsync(es []Entry, done func(error)) {
	r, err := b.newPutReq(es)
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

func (b *Badger) newPutReq(es []Entry) (*writeReq, error) {
	now := time.Now()
	r := &writeReq{puts: make([]encoded, len(es))}
	// Encoding happens here, in the callers' goroutines, not in the one
	// committer.
	for i, e := range es {
		e = normalize(e, now)
		val := encodeEntry(make([]byte, 0, maxFrame+len(e.App)+len(e.Run)+len(e.Value)), e)
		if len(val) > MaxEntrySize {
			return nil, fmt.Errorf("memo put %s (%s): entry is %d bytes, more than the %d a store entry may hold",
				e.Key, e.App, len(val), MaxEntrySize)
		}
		r.puts[i] = encoded{dbKey(e.Key), val}
	}
	// Known before written: a lookup after the write must not be told
	// the key is absent.
	b.known.add(es)
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
// writing everything queued before that. It writes batches and leaves the
// syncing to syncLoop, so that the next batch is written while the last
// one syncs: a sync takes from a fraction of a millisecond to several on
// a busy disk, and with the two in series the committer would spend half
// its time waiting for it while tasks queued up behind.
func (b *Badger) commitLoop() {
	defer close(b.toSync)
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
		b.toSync <- writtenBatch{reqs: slices.Clone(batch), err: err}
		clear(batch) // let the requests' buffers go
	}
}

// writtenBatch is a batch the committer has written (or failed to write)
// and not yet synced.
type writtenBatch struct {
	reqs []*writeReq
	err  error
}

// syncLoop syncs written batches and answers their callers. One sync
// covers every batch written before it starts, however many have piled up
// during the previous one.
func (b *Badger) syncLoop() {
	defer close(b.committed)
	var pending []writtenBatch
	for wb := range b.toSync {
		pending = append(pending[:0], wb)
	drain:
		for {
			select {
			case wb, ok := <-b.toSync:
				if !ok {
					break drain
				}
				pending = append(pending, wb)
			default:
				break drain
			}
		}
		var serr error
		if err := b.db.Sync(); err != nil {
			serr = fmt.Errorf("memo store %s: sync: %w", b.dir, err)
		}
		for _, wb := range pending {
			err := wb.err
			if err == nil {
				err = serr
			}
			for _, r := range wb.reqs {
				if r.notify != nil {
					r.notify(err)
				} else {
					r.done <- err
				}
			}
		}
		clear(pending)
	}
}

// write applies the batch in order, without syncing. A batch larger than
// one Badger transaction takes several. An error fails the whole batch,
// whatever part of it was written.
func (b *Badger) write(batch []*writeReq) error {
	txn := b.db.NewTransactionAt(math.MaxUint64, true)
	defer func() { txn.Discard() }()
	commit := func() error {
		b.ts++
		if err := txn.CommitAt(b.ts, nil); err != nil {
			return err
		}
		// Versions a later commit replaced, and deleted entries, may go
		// at the next compaction: every read is of the latest version.
		b.db.SetDiscardTs(b.ts)
		return nil
	}
	apply := func(op func(*badger.Txn) error) error {
		err := op(txn)
		if errors.Is(err, badger.ErrTxnTooBig) {
			if err := commit(); err != nil {
				return err
			}
			txn = b.db.NewTransactionAt(math.MaxUint64, true)
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
	return commit()
}
