package memo

import (
	"fmt"
	"sync"
	"time"
)

// Group commit. A durable write costs an fsync, a fraction of a
// millisecond on a local disk and several on a cluster's, while a no-op
// task costs microseconds; and a Badger write costs a few microseconds of
// CPU more (its memtable skiplist, its own log, its flushes), as much
// again as the task. So results are not written to Badger as tasks finish:
// they are appended to the store's results log, and folded into Badger
// later, many at a time (fold.go).
//
// Every Put and Delete appends its records to one buffer; one writer
// goroutine takes whatever the buffer holds, writes it to the current log
// segment with one write, syncs it with one fdatasync, indexes it, and
// hands its callers to the notifier goroutine, which answers them in
// order while the writer goes on with the next group. While it syncs, the
// next group gathers: under load a sync serves hundreds of tasks; alone, a
// Put costs one sync, as it must.
type journal struct {
	b   *Badger
	dir string // the log folder

	mu      sync.Mutex
	wake    sync.Cond // the writer waits on it for work
	buf     []byte
	waiters []func(error)
	rolls   []chan error
	closing bool
	err     error // the first write or sync that failed: every later one fails too

	// The writer's own.
	seg     *segment
	size    int64  // bytes written to seg
	next    uint32 // id of the next segment
	scratch indexScratch
	notify  chan answered // writer to notifier
	done    chan struct{} // closed when the notifier has answered the last group
}

// answered is a group's callers and the group's outcome.
type answered struct {
	waiters []func(error)
	err     error
}

// maxSpare bounds the buffer the writer keeps for the next group: one
// huge result should not pin its size for the rest of the run.
const maxSpare = 4 << 20

func newJournal(b *Badger, dir string, next uint32) *journal {
	j := &journal{b: b, dir: dir, next: next, notify: make(chan answered, 4), done: make(chan struct{})}
	j.wake.L = &j.mu
	go j.run()
	go j.answer()
	return j
}

// put appends the entries' records; done is called once they are durable,
// or with the error that keeps them from being so.
func (j *journal) put(es []Entry, done func(error)) {
	j.mu.Lock()
	if err := j.refuse(); err != nil {
		j.mu.Unlock()
		done(err)
		return
	}
	var now time.Time
	clock := func() time.Time {
		if now.IsZero() {
			now = time.Now()
		}
		return now
	}
	for i := range es {
		j.buf = appendPutRecord(j.buf, &es[i], createdNanos(&es[i], clock))
	}
	j.queue(done)
}

func (j *journal) delete(keys []Key, done func(error)) {
	j.mu.Lock()
	if err := j.refuse(); err != nil {
		j.mu.Unlock()
		done(err)
		return
	}
	for _, k := range keys {
		j.buf = appendDeleteRecord(j.buf, k)
	}
	j.queue(done)
}

// refuse says why records cannot be taken. It runs under mu.
func (j *journal) refuse() error {
	if j.closing {
		return ErrClosed
	}
	return j.err
}

// queue registers done for the records just appended and unlocks mu.
func (j *journal) queue(done func(error)) {
	j.waiters = append(j.waiters, done)
	first := len(j.waiters) == 1
	j.mu.Unlock()
	if first {
		// The writer takes the buffer whole, so only the first record of
		// a group can find it waiting.
		j.wake.Signal()
	}
}

// roll ends the segment being written once what is queued is durable, so
// that a fold can take it; the next write starts a new one.
func (j *journal) roll() error {
	ch := make(chan error, 1)
	j.mu.Lock()
	if j.closing {
		j.mu.Unlock()
		return ErrClosed
	}
	j.rolls = append(j.rolls, ch)
	j.mu.Unlock()
	j.wake.Signal()
	return <-ch
}

// close writes what is queued and stops the writer.
func (j *journal) close() {
	j.mu.Lock()
	j.closing = true
	j.mu.Unlock()
	j.wake.Signal()
	<-j.done
}

func (j *journal) run() {
	defer close(j.notify)
	var spare []byte
	for {
		j.mu.Lock()
		for len(j.buf) == 0 && len(j.rolls) == 0 && !j.closing {
			j.wake.Wait()
		}
		if len(j.buf) == 0 && len(j.rolls) > 0 {
			rolls := j.rolls
			j.rolls = nil
			j.mu.Unlock()
			if j.seg != nil {
				j.b.sealSegment(j.seg)
				j.seg = nil
			}
			for _, ch := range rolls {
				ch <- nil
			}
			continue
		}
		if len(j.buf) == 0 { // closing, and nothing left
			j.mu.Unlock()
			return
		}
		buf, ws := j.buf, j.waiters
		j.buf, j.waiters = spare[:0], nil
		failed := j.err
		j.mu.Unlock()

		err := failed
		if err == nil {
			if err = j.write(buf); err != nil {
				err = fmt.Errorf("memo store %s: results log: %w", j.b.dir, err)
				j.mu.Lock()
				j.err = err
				j.mu.Unlock()
			}
		}
		j.notify <- answered{ws, err}
		spare = nil
		if cap(buf) <= maxSpare {
			spare = buf[:0]
		}
	}
}

// answer calls each group's callers, in the order the groups were written.
func (j *journal) answer() {
	defer close(j.done)
	for a := range j.notify {
		for _, w := range a.waiters {
			w(a.err)
		}
	}
}

// write appends one group to the log, syncs it and indexes it.
func (j *journal) write(group []byte) error {
	if j.seg != nil && j.size > 0 && j.size+int64(len(group)) > segmentSize {
		j.b.sealSegment(j.seg)
		j.seg = nil
	}
	if j.seg == nil {
		seg, err := createSegment(j.dir, j.next)
		if err != nil {
			return err
		}
		j.next++
		j.b.addSegment(seg)
		j.seg, j.size = seg, 0
	}
	if _, err := j.seg.f.WriteAt(group, j.size); err != nil {
		return err
	}
	if err := syncData(j.seg.f); err != nil {
		return err
	}
	j.b.index.addRecords(j.seg.id, j.size, group, &j.scratch)
	j.size += int64(len(group))
	return nil
}
