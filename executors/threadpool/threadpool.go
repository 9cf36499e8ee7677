// Package threadpool is the in-process executor: a fixed set of slots,
// each a goroutine that takes jobs from one queue and runs them. It is
// Parsl's ThreadPoolExecutor and starflow's default.
package threadpool

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/starflow-hpc/starflow/dfk"
)

// Executor runs jobs on Slots goroutines.
type Executor struct {
	label string
	slots int

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*dfk.Job // queue[head:] is waiting
	head    int
	stopped bool

	ctx  context.Context
	stop chan struct{} // closed by Shutdown
	wg   sync.WaitGroup
}

var _ dfk.Executor = (*Executor)(nil)

// New returns a pool of slots goroutines labelled label.
func New(label string, slots int) (*Executor, error) {
	if slots < 1 {
		return nil, fmt.Errorf("thread pool %q: max_threads must be at least 1, got %d", label, slots)
	}
	e := &Executor{label: label, slots: slots, stop: make(chan struct{})}
	e.cond = sync.NewCond(&e.mu)
	return e, nil
}

// Label is the executor's label.
func (e *Executor) Label() string { return e.label }

// Slots is the number of jobs run at once.
func (e *Executor) Slots() int { return e.slots }

// Start launches the slots. Jobs see ctx, so cancelling it interrupts them.
func (e *Executor) Start(ctx context.Context) error {
	e.ctx = ctx
	for i := 0; i < e.slots; i++ {
		e.wg.Add(1)
		go e.slot(i)
	}
	// Wake idle slots when the run is interrupted so they drain the queue.
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		select {
		case <-ctx.Done():
		case <-e.stop:
			return
		}
		e.mu.Lock()
		e.cond.Broadcast()
		e.mu.Unlock()
	}()
	return nil
}

// Submit queues a job; it never blocks on running jobs.
func (e *Executor) Submit(job *dfk.Job) {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		job.Started()
		job.Finish(nil, errors.New("thread pool "+e.label+" is shut down"))
		return
	}
	// Once the run is interrupted, slots exit as soon as the queue is
	// empty (next checks under mu), so a job queued now might never be
	// taken: finish it with the cause instead.
	if e.ctx.Err() != nil {
		e.mu.Unlock()
		job.Started()
		job.Finish(nil, context.Cause(e.ctx))
		return
	}
	e.queue = append(e.queue, job)
	e.mu.Unlock()
	e.cond.Signal()
}

// next blocks for a job; it returns nil when the pool stops and the queue
// is empty.
func (e *Executor) next() *dfk.Job {
	e.mu.Lock()
	defer e.mu.Unlock()
	for e.head == len(e.queue) {
		if e.stopped || e.ctx.Err() != nil {
			return nil
		}
		e.cond.Wait()
	}
	j := e.queue[e.head]
	e.queue[e.head] = nil
	e.head++
	switch {
	case e.head == len(e.queue):
		e.queue, e.head = e.queue[:0], 0
	case e.head > 4096 && e.head*2 > len(e.queue):
		// Reclaim the consumed front of a long queue.
		n := copy(e.queue, e.queue[e.head:])
		clear(e.queue[n:])
		e.queue, e.head = e.queue[:n], 0
	}
	return j
}

func (e *Executor) slot(rank int) {
	defer e.wg.Done()
	for {
		j := e.next()
		if j == nil {
			return
		}
		j.Started()
		if cause := context.Cause(e.ctx); cause != nil {
			j.Finish(nil, cause)
			continue
		}
		v, err := j.Run(e.ctx, dfk.Env{ID: j.ID, Rank: rank, Try: j.Try})
		j.Finish(v, err)
	}
}

// Shutdown stops the slots once the queue is drained (or at once, for
// queued jobs, when the run's context was cancelled) and waits for them.
func (e *Executor) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if !e.stopped {
		e.stopped = true
		close(e.stop)
	}
	e.cond.Broadcast()
	e.mu.Unlock()
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("thread pool %q: slots still running: %w", e.label, context.Cause(ctx))
	}
}
