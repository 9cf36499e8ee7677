package dfk

import (
	"context"
	"encoding/binary"
	"runtime"
	"sync"
)

// Key identifies a task's work for memoization: a hash of the app's code
// and its resolved arguments, computed by the caller.
type Key [32]byte

// Memoizer is the kernel's memo table (Parsl's Memoizer). The kernel calls
// it from its memo stage, never from the goroutine that submits tasks.
type Memoizer interface {
	// Lookup returns the stored value for key, if any.
	Lookup(ctx context.Context, key Key, app string) (value any, ok bool)
	// Record stores a task's value. done is called once the value is as
	// durable as the checkpoint mode promises (on disk for "task_exit",
	// at once otherwise), possibly on another goroutine; the task's
	// dependents start only then. A value that cannot be stored is
	// reported by the Memoizer; done still gets nil, because the task
	// itself succeeded.
	Record(key Key, app string, value any, done func())
}

// The kernel's memo stage. A memoized task claims its key for as long as
// it is in flight, and tasks with the same key that come meanwhile follow
// it instead of running too: they complete with its value, or, if it
// fails, the first of them takes its place (see failed).
//
// A run holds as many flights as it has memoized tasks between their
// claim and their durable record, tens of thousands in a burst, and each
// is claimed and let go of: four map operations per task. So
// the flights are sharded by the key's first byte (the stage's goroutines
// claim while completing tasks let go), and mapped by the key's first 8
// bytes, a map the runtime hashes fast and keeps in a third of the memory
// a map by the whole key takes. Keys that share those bytes, which
// sha256 makes a once-in-2^64 event, chain.
type flight struct {
	key       Key
	followers []*task // waiting for this flight's outcome
	next      *flight // a flight whose key has the same first 8 bytes
}

type flightShard struct {
	mu sync.Mutex
	m  map[uint64]*flight
	_  [64 - 16]byte // a cache line per shard
}

const flightShards = 64

func keyPrefix(k *Key) uint64 { return binary.LittleEndian.Uint64(k[:8]) }

// find returns key's flight, or nil. It runs under sh.mu.
func (sh *flightShard) find(key *Key) *flight {
	for f := sh.m[keyPrefix(key)]; f != nil; f = f.next {
		if f.key == *key {
			return f
		}
	}
	return nil
}

// unlink removes f. It runs under sh.mu.
func (sh *flightShard) unlink(f *flight) {
	p := keyPrefix(&f.key)
	head := sh.m[p]
	if head == f {
		if f.next == nil {
			delete(sh.m, p)
		} else {
			sh.m[p] = f.next
		}
		return
	}
	for g := head; g != nil; g = g.next {
		if g.next == f {
			g.next = f.next
			return
		}
	}
}

// memoStage computes keys and looks them up on a few goroutines, so that
// hashing arguments and reading the store do not slow the script that
// submits tasks and do not take executor slots.
type memoStage struct {
	k    *Kernel
	mu   sync.Mutex
	cond *sync.Cond
	q    []*task
	stop bool
	wg   sync.WaitGroup

	workers int
	flights [flightShards]flightShard
}

func newMemoStage(k *Kernel) *memoStage {
	s := &memoStage{k: k, workers: runtime.NumCPU()}
	for i := range s.flights {
		s.flights[i].m = map[uint64]*flight{}
	}
	s.cond = sync.NewCond(&s.mu)
	for i := 0; i < s.workers; i++ {
		s.wg.Add(1)
		go s.loop()
	}
	return s
}

func (s *memoStage) submit(t *task) {
	s.mu.Lock()
	s.q = append(s.q, t)
	s.mu.Unlock()
	s.cond.Signal()
}

// stageBatch bounds the tasks a goroutine takes from the queue at once,
// so that under a burst it takes the lock once per many tasks. It takes
// no more than its share of the queue, though: a task whose lookup waits
// for the disk must not hold up the ones it took along while the other
// goroutines idle.
const stageBatch = 64

func (s *memoStage) loop() {
	defer s.wg.Done()
	var batch [stageBatch]*task
	// drain's list, reused task after task: it escapes to the heap (check
	// is in a cycle of calls with complete), so one per task would be an
	// allocation per task.
	var buf []waiter
	for {
		s.mu.Lock()
		for len(s.q) == 0 && !s.stop {
			s.cond.Wait()
		}
		if len(s.q) == 0 {
			s.mu.Unlock()
			return
		}
		share := (len(s.q) + s.workers - 1) / s.workers
		n := copy(batch[:min(share, stageBatch)], s.q)
		clear(s.q[:n])
		s.q = s.q[n:]
		if len(s.q) == 0 {
			s.q = nil // let the backing array go
		}
		s.mu.Unlock()
		for _, t := range batch[:n] {
			next := s.check(t, buf[:0])
			s.k.drain(next)
			clear(next[:cap(next)]) // let the released tasks go
			buf = next[:0]
		}
		clear(batch[:n])
	}
}

// shutdown stops the goroutines after the queue is empty.
func (s *memoStage) shutdown() {
	s.mu.Lock()
	s.stop = true
	s.cond.Broadcast()
	s.mu.Unlock()
	s.wg.Wait()
}

// check finds the task's key and either completes it from the memo table,
// makes it wait for an identical task in flight, or launches it.
//
// The task claims its key before it looks it up, and the claim lasts
// until the task is done: a task with the same key that comes meanwhile
// waits for this one, whether it hits or runs. Claiming after a miss
// would leave a gap: the other task could land, record and let go of the
// key while this one was still reading a miss from the store, and this
// one would then run the work again.
func (s *memoStage) check(t *task, next []waiter) []waiter {
	k := s.k
	k.counts.queued.Add(-1) // out of the stage's queue, one way or another
	key, err := t.keyFn()
	t.keyFn = nil
	if err != nil {
		// Arguments that cannot be hashed (say, an open file): the task
		// runs, it just is not memoized.
		k.log.Debug("task not memoized", "task_id", t.id, "app", t.app, "reason", err)
		return k.launch(t, next)
	}
	f := s.followOrClaim(&key, t)
	if f == nil {
		return next
	}
	if v, ok := k.cfg.Memo.Lookup(k.ctx, key, t.app); ok {
		followers := s.release(&f.key)
		k.counts.memoHits.Add(1)
		next = k.complete(t, MemoDone, v, nil, next)
		return s.settleFollowers(followers, v, next)
	}
	t.key = &f.key
	return k.launch(t, next)
}

func (s *memoStage) shard(key *Key) *flightShard { return &s.flights[key[0]%flightShards] }

// followOrClaim makes t wait for the task in flight with the same key, if
// there is one, and returns nil; otherwise t claims the key, and its
// flight is returned.
func (s *memoStage) followOrClaim(key *Key, t *task) *flight {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if f := sh.find(key); f != nil {
		f.followers = append(f.followers, t)
		s.k.counts.waiting.Add(1)
		return nil
	}
	p := keyPrefix(key)
	f := &flight{key: *key, next: sh.m[p]}
	sh.m[p] = f
	return f
}

// settleFollowers completes the tasks that waited for a value.
func (s *memoStage) settleFollowers(followers []*task, value any, next []waiter) []waiter {
	for _, f := range followers {
		s.k.counts.waiting.Add(-1)
		s.k.counts.memoHits.Add(1)
		next = s.k.complete(f, MemoDone, value, nil, next)
	}
	return next
}

// landed is called when a memoized task's try succeeded: the value is
// recorded, and the task and the tasks that waited for it complete once
// the record is durable.
func (s *memoStage) landed(t *task, value any) {
	k := s.k
	key := t.key
	k.cfg.Memo.Record(*key, t.app, value, func() {
		followers := s.release(key)
		// No buffer: one would escape to the heap, and a task nobody
		// depends on releases nothing.
		next := k.complete(t, ExecDone, value, nil, nil)
		k.drain(s.settleFollowers(followers, value, next))
	})
}

// release ends the flight of key and returns the tasks that waited for it.
func (s *memoStage) release(key *Key) []*task {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	f := sh.find(key)
	if f == nil {
		return nil
	}
	sh.unlink(f)
	return f.followers
}

// failed is called when a memoized task failed for good. The work is not
// memoized, and the tasks that waited for it still want it done: the
// first of them takes the failed task's place, with its own tries and
// retries, and the others follow it in turn. A failure that comes from
// the work itself so fails each follower the same way, one at a time;
// one that came from the leader's circumstances (a lost worker, a
// walltime it shared with nobody) gives the work another chance, and
// its success is memoized like any. An interrupted run launches nothing:
// the followers fail with the interruption.
func (s *memoStage) failed(t *task, next []waiter) []waiter {
	sh := s.shard(t.key)
	sh.mu.Lock()
	f := sh.find(t.key)
	if f == nil {
		sh.mu.Unlock()
		return next
	}
	cause := context.Cause(s.k.ctx)
	if len(f.followers) == 0 || cause != nil {
		sh.unlink(f)
		sh.mu.Unlock()
		for _, w := range f.followers {
			s.k.counts.waiting.Add(-1)
			// As launch fails a task it is asked to run once interrupted.
			next = s.k.complete(w, Failed, nil, cause, next)
		}
		return next
	}
	heir := f.followers[0]
	f.followers = f.followers[1:]
	sh.mu.Unlock()
	s.k.counts.waiting.Add(-1)
	heir.key = &f.key
	return s.k.launch(heir, next)
}
