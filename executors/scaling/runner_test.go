package scaling_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/executors/scaling"
	"github.com/starflow-hpc/starflow/providers"
)

// target records every call the runner makes, in order, on calls.
type target struct {
	calls chan string

	mu     sync.Mutex
	state  scaling.State
	outErr error
	inErr  error
	nextID int
}

func newTarget() *target { return &target{calls: make(chan string, 100)} }

func (f *target) Snapshot(ctx context.Context) (scaling.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls <- "snapshot"
	return f.state, nil
}

func (f *target) ScaleOut(ctx context.Context, n int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls <- fmt.Sprint("out ", n)
	if f.outErr != nil {
		return 0, f.outErr
	}
	for range n {
		f.state.Blocks = append(f.state.Blocks, scaling.Block{ID: f.nextID, State: providers.Pending})
		f.nextID++
	}
	return n, nil
}

func (f *target) ScaleIn(ctx context.Context, ids []int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls <- fmt.Sprint("in ", ids)
	return f.inErr
}

func (f *target) Fail(err error) { f.calls <- "fail: " + err.Error() }

// expect reads the next calls and compares them with want.
func (f *target) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if got := <-f.calls; got != w {
			t.Fatalf("call %q, want %q", got, w)
		}
	}
}

// run starts r.Run on a goroutine the test owns and ends it at cleanup.
func run(t *testing.T, r *scaling.Runner) {
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		stop := errors.New("test over")
		cancel(stop)
		if err := <-done; err != stop {
			t.Errorf("Run returned %v, want the context's cause", err)
		}
	})
}

func TestRunnerStartsInitBlocksAtOnce(t *testing.T) {
	t.Parallel()
	f := newTarget()
	wake := make(chan struct{})
	s := scaling.New(scaling.Config{Kind: scaling.HtexAutoScale,
		Blocks: providers.Settings{InitBlocks: 1, MaxBlocks: 3, Parallelism: 1}, MaxIdletime: time.Minute})
	run(t, &scaling.Runner{Strategy: s, Target: f, Period: time.Hour, Wake: wake})
	f.expect(t, "snapshot", "out 1") // no waiting for the period

	f.mu.Lock()
	f.state.Outstanding, f.state.SlotsPerBlock = 6, 2
	f.mu.Unlock()
	wake <- struct{}{}
	f.expect(t, "snapshot", "out 2")
}

// TestRunnerFailsAtOnce: a launch that fails reaches the executor's
// waiting tasks in the same tick, not a period later.
func TestRunnerFailsAtOnce(t *testing.T) {
	t.Parallel()
	f := newTarget()
	f.outErr = errors.New(`sbatch: error: invalid partition specified: "gpu"`)
	f.state.Outstanding = 1
	s := scaling.New(scaling.Config{Kind: scaling.Simple,
		Blocks: providers.Settings{InitBlocks: 1, MaxBlocks: 1, Parallelism: 1}, Backoff: time.Hour})
	run(t, &scaling.Runner{Strategy: s, Target: f, Period: time.Hour})
	f.expect(t, "snapshot", "out 1", "snapshot",
		`fail: 1 block launch failed in a row and no block is running; last: sbatch: error: invalid partition specified: "gpu"`)
}

// TestRunnerRetriesFailedCancel: a block whose cancel failed is chosen
// again on the next tick.
func TestRunnerRetriesFailedCancel(t *testing.T) {
	t.Parallel()
	f := newTarget()
	f.inErr = errors.New("scancel: error: Kill job error on job id 7")
	f.state.Blocks = []scaling.Block{{ID: 7, State: providers.Running, Workers: 1, Joined: true, IdleSince: t0}}
	now := t0
	wake := make(chan struct{})
	s := scaling.New(scaling.Config{Kind: scaling.Simple,
		Blocks: providers.Settings{MaxBlocks: 1, Parallelism: 1}, MaxIdletime: time.Minute})
	r := &scaling.Runner{Strategy: s, Target: f, Period: time.Hour, Wake: wake, Now: func() time.Time {
		f.mu.Lock()
		defer f.mu.Unlock()
		return now
	}}
	run(t, r)
	f.expect(t, "snapshot") // the idle timer starts
	f.mu.Lock()
	now = t0.Add(2 * time.Minute)
	f.mu.Unlock()
	wake <- struct{}{}
	f.expect(t, "snapshot", "in [7]")
	wake <- struct{}{}
	f.expect(t, "snapshot", "in [7]")
}
