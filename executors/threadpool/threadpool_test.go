package threadpool_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/executors/threadpool"
)

// The pool's jobs can only be made by a kernel, so these tests drive the
// pool through a real dfk.Kernel, and call the pool's own methods where
// the kernel would not (Shutdown while jobs are queued).

func newPool(t *testing.T, slots int) *threadpool.Executor {
	t.Helper()
	pool, err := threadpool.New("pool", slots)
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

func newKernel(t *testing.T, executors ...dfk.Executor) *dfk.Kernel {
	t.Helper()
	k, err := dfk.New(context.Background(), dfk.Config{Executors: executors})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := k.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return k
}

func wait(t *testing.T, f *dfk.Future) (any, error) {
	t.Helper()
	return f.Wait(context.Background())
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		slots   int
		wantErr bool
	}{{-1, true}, {0, true}, {1, false}, {16, false}}
	for _, tt := range tests {
		pool, err := threadpool.New("cpu", tt.slots)
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), "max_threads") {
				t.Errorf("New(%d): error %v, want one naming max_threads", tt.slots, err)
			}
			continue
		}
		if err != nil || pool.Slots() != tt.slots || pool.Label() != "cpu" {
			t.Errorf("New(%d) = (%v slots, label %q, %v)", tt.slots, pool.Slots(), pool.Label(), err)
		}
	}
}

// TestSlotsBoundConcurrency holds the first tries until every slot is busy,
// so the pool must reach exactly N at once and never more.
func TestSlotsBoundConcurrency(t *testing.T) {
	t.Parallel()
	for _, slots := range []int{1, 2, 4, 8} {
		t.Run(fmt.Sprint(slots), func(t *testing.T) {
			t.Parallel()
			k := newKernel(t, newPool(t, slots))
			var running, peak atomic.Int32
			busy := make([]atomic.Bool, slots)
			full := make(chan struct{})
			var fullOnce sync.Once
			run := func(ctx context.Context, env dfk.Env) (any, error) {
				if env.Rank < 0 || env.Rank >= slots {
					return nil, fmt.Errorf("rank %d outside [0, %d)", env.Rank, slots)
				}
				if busy[env.Rank].Swap(true) {
					return nil, fmt.Errorf("two tries at once on rank %d", env.Rank)
				}
				defer busy[env.Rank].Store(false)
				n := running.Add(1)
				defer running.Add(-1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				if n == int32(slots) {
					fullOnce.Do(func() { close(full) })
				}
				select {
				case <-full:
				case <-ctx.Done():
				}
				return env.Rank, nil
			}
			var fs []*dfk.Future
			for range 20 * slots {
				fs = append(fs, k.Submit(dfk.Spec{App: "count", Run: run}))
			}
			for _, f := range fs {
				if _, err := wait(t, f); err != nil {
					t.Fatal(err)
				}
			}
			if p := peak.Load(); p != int32(slots) {
				t.Errorf("peak concurrency %d, want %d", p, slots)
			}
		})
	}
}

// gate returns a Run that blocks until release, and release.
func gate() (func(context.Context, dfk.Env) (any, error), func()) {
	ch := make(chan struct{})
	return func(ctx context.Context, _ dfk.Env) (any, error) {
		select {
		case <-ch:
			return "released", nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}, func() { close(ch) }
}

func TestShutdownDrainsQueue(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 1)
	k := newKernel(t, pool)
	block, release := gate()
	fs := []*dfk.Future{k.Submit(dfk.Spec{App: "block", Run: block})}
	for i := range 50 {
		fs = append(fs, k.Submit(dfk.Spec{App: "queued", Run: func(context.Context, dfk.Env) (any, error) { return i, nil }}))
	}
	// A Shutdown whose ctx is already over stops the pool and returns at
	// once, since the slot is still busy; the queue must survive it.
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	if err := pool.Shutdown(expired); err == nil {
		t.Error("Shutdown with a busy slot and an expired ctx: want an error")
	}
	release()
	if err := pool.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for _, f := range fs {
		if !f.Done() || f.State() != dfk.ExecDone {
			_, err := f.Outcome()
			t.Fatalf("task %d after Shutdown: %v (%v), want exec_done", f.ID(), f.State(), err)
		}
	}
	if err := pool.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

func TestSubmitAfterShutdown(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 2)
	k := newKernel(t, pool)
	if err := pool.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var ran atomic.Bool
	f := k.Submit(dfk.Spec{App: "late", Run: func(context.Context, dfk.Env) (any, error) {
		ran.Store(true)
		return nil, nil
	}})
	if _, err := wait(t, f); err == nil || !strings.Contains(err.Error(), "shut down") {
		t.Errorf("error = %v, want the pool to say it is shut down", err)
	}
	if ran.Load() {
		t.Error("the job ran on a shut down pool")
	}
	if c := k.Counts(); c.Queued != 0 || c.Running != 0 || c.Failed != 1 {
		t.Errorf("Counts = %+v", c)
	}
}

func TestInterruptDrainsQueuedJobsWithCause(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 1)
	k := newKernel(t, pool)
	started := make(chan struct{})
	blocker := k.Submit(dfk.Spec{App: "block", Run: func(ctx context.Context, _ dfk.Env) (any, error) {
		close(started)
		<-ctx.Done()
		return nil, context.Cause(ctx)
	}})
	<-started
	var ran atomic.Int32
	var queued []*dfk.Future
	for range 100 {
		queued = append(queued, k.Submit(dfk.Spec{App: "queued", Run: func(context.Context, dfk.Env) (any, error) {
			ran.Add(1)
			return nil, nil
		}}))
	}
	cause := errors.New("walltime of the whole run")
	k.Interrupt(cause)
	for _, f := range append(queued, blocker) {
		if _, err := wait(t, f); !errors.Is(err, cause) {
			t.Fatalf("task %d: error %v, want the interrupt's cause", f.ID(), err)
		}
	}
	if n := ran.Load(); n != 0 {
		t.Errorf("%d queued jobs ran after the interrupt", n)
	}
	if err := pool.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// ownContext starts the pool with a context of its own, so the pool can be
// interrupted while the kernel still launches.
type ownContext struct {
	*threadpool.Executor
	ctx context.Context
}

func (o ownContext) Start(context.Context) error { return o.Executor.Start(o.ctx) }

// TestSubmitAfterInterrupt: once its context is cancelled the pool's idle
// slots exit, so a job submitted afterwards must be finished with the
// cause rather than queued for nobody.
func TestSubmitAfterInterrupt(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	pool := newPool(t, 2)
	k := newKernel(t, ownContext{pool, ctx})
	cause := errors.New("stop")
	cancel(cause)
	// The slots exit some time after the cancel; keep submitting so some
	// jobs arrive after they have gone.
	for i := range 1000 {
		f := k.Submit(dfk.Spec{App: "late", Run: func(context.Context, dfk.Env) (any, error) { return 1, nil }})
		// A lost job would hang the test; the deadline only turns that
		// into a failure that says so.
		hang, stop := context.WithTimeout(context.Background(), time.Minute)
		_, err := f.Wait(hang)
		stop()
		if !errors.Is(err, cause) {
			t.Fatalf("job %d: error %v, want the cause", i, err)
		}
		runtime.Gosched()
	}
}
