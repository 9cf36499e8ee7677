package dfk

import (
	"context"
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

// flight is a memoized task being computed, and the tasks with the same
// key that wait for it instead of running too.
type flight struct {
	leader    *task
	followers []*task
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

	flightMu sync.Mutex
	flights  map[Key]*flight
}

func newMemoStage(k *Kernel) *memoStage {
	s := &memoStage{k: k, flights: map[Key]*flight{}}
	s.cond = sync.NewCond(&s.mu)
	for i := 0; i < runtime.NumCPU(); i++ {
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

func (s *memoStage) loop() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		for len(s.q) == 0 && !s.stop {
			s.cond.Wait()
		}
		if len(s.q) == 0 {
			s.mu.Unlock()
			return
		}
		t := s.q[0]
		s.q[0] = nil
		s.q = s.q[1:]
		if len(s.q) == 0 {
			s.q = nil // let the backing array go
		}
		s.mu.Unlock()
		var buf [4]waiter
		s.k.drain(s.check(t, buf[:0]))
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
	if s.followOrClaim(key, t) {
		return next
	}
	if v, ok := k.cfg.Memo.Lookup(k.ctx, key, t.app); ok {
		followers := s.release(key)
		k.counts.memoHits.Add(1)
		next = k.complete(t, MemoDone, v, nil, next)
		return s.settleFollowers(followers, v, next)
	}
	t.key = &key
	return k.launch(t, next)
}

// followOrClaim makes t wait for the task in flight with the same key, if
// there is one, and reports true; otherwise t claims the key.
func (s *memoStage) followOrClaim(key Key, t *task) bool {
	s.flightMu.Lock()
	defer s.flightMu.Unlock()
	if f, ok := s.flights[key]; ok {
		f.followers = append(f.followers, t)
		s.k.counts.waiting.Add(1)
		return true
	}
	s.flights[key] = &flight{leader: t}
	return false
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
	key := *t.key
	k.cfg.Memo.Record(key, t.app, value, func() {
		followers := s.release(key)
		var buf [4]waiter
		next := k.complete(t, ExecDone, value, nil, buf[:0])
		k.drain(s.settleFollowers(followers, value, next))
	})
}

// release ends the flight of key and returns the tasks that waited for it.
func (s *memoStage) release(key Key) []*task {
	s.flightMu.Lock()
	defer s.flightMu.Unlock()
	f := s.flights[key]
	delete(s.flights, key)
	if f == nil {
		return nil
	}
	return f.followers
}

// failed is called when a memoized task failed for good: the tasks that
// waited for it run themselves (their own tries, their own retries).
func (s *memoStage) failed(t *task, next []waiter) []waiter {
	for _, f := range s.release(*t.key) {
		s.k.counts.waiting.Add(-1)
		next = s.k.launch(f, next)
	}
	return next
}
