package dfk_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
)

// followers submits n tasks with the leader's key once the leader runs,
// and waits until they all follow it.
func followers(t *testing.T, k *dfk.Kernel, leaderRuns *atomic.Int32, n int, spec dfk.Spec) []*dfk.Future {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for leaderRuns.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	var fs []*dfk.Future
	for range n {
		fs = append(fs, k.Submit(spec))
	}
	for k.Counts().Waiting != int64(n) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if c := k.Counts(); c.Waiting != int64(n) {
		t.Fatalf("counts %+v, want %d tasks following the leader", c, n)
	}
	return fs
}

// When the leader fails, the first follower runs in its place and the
// others follow it: the work runs once more, not once per follower, and
// its success is memoized.
func TestMemoHeirRunsForTheFollowers(t *testing.T) {
	t.Parallel()
	m := newTable()
	k := newKernel(t, 4, dfk.Config{Memo: m})
	hold := make(chan struct{})
	var leaderRuns, runs atomic.Int32
	leader := k.Submit(dfk.Spec{App: "a", Key: key(20), Run: func(context.Context, dfk.Env) (any, error) {
		leaderRuns.Add(1)
		<-hold
		return nil, errors.New("node lost")
	}})
	fs := followers(t, k, &leaderRuns, 3, dfk.Spec{App: "a", Key: key(20), Run: counting(&runs, "ok", nil)})
	close(hold)
	waitAll(t, k)
	if _, err := leader.Outcome(); err == nil {
		t.Error("leader succeeded")
	}
	for i, f := range fs {
		if v, err := f.Outcome(); v != "ok" || err != nil {
			t.Errorf("follower %d: %v %v, want the heir's value", i, v, err)
		}
	}
	if runs.Load() != 1 {
		t.Errorf("followers ran the work %d times, want once", runs.Load())
	}
	if c := k.Counts(); c.MemoHits != 2 || c.Waiting != 0 {
		t.Errorf("counts %+v, want 2 hits (the heir's followers), none waiting", c)
	}
	if v, ok := m.Lookup(context.Background(), dfk.Key{20}, "a"); v != "ok" || !ok {
		t.Errorf("memo table after the heir succeeded: %v %v, want its value", v, ok)
	}
}

// Work that fails every time fails every follower, each with its own try:
// one after the other, never two at once.
func TestMemoHeirsFailInTurn(t *testing.T) {
	t.Parallel()
	k := newKernel(t, 4, dfk.Config{Memo: newTable()})
	hold := make(chan struct{})
	var leaderRuns, inFlight, maxInFlight, runs atomic.Int32
	fail := func(context.Context, dfk.Env) (any, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		runs.Add(1)
		return nil, errors.New("bad input")
	}
	leader := k.Submit(dfk.Spec{App: "a", Key: key(21), Run: func(ctx context.Context, env dfk.Env) (any, error) {
		leaderRuns.Add(1)
		<-hold
		return fail(ctx, env)
	}})
	fs := followers(t, k, &leaderRuns, 3, dfk.Spec{App: "a", Key: key(21), Run: fail})
	close(hold)
	waitAll(t, k)
	for i, f := range append([]*dfk.Future{leader}, fs...) {
		if _, err := f.Outcome(); err == nil {
			t.Errorf("task %d succeeded", i)
		}
	}
	if runs.Load() != 4 || maxInFlight.Load() != 1 {
		t.Errorf("%d runs, at most %d at once; want 4, one at a time", runs.Load(), maxInFlight.Load())
	}
}

// An interrupted run launches no heir: the followers fail with the
// interruption.
func TestMemoInterruptFailsFollowers(t *testing.T) {
	t.Parallel()
	k := newKernel(t, 4, dfk.Config{Memo: newTable()})
	var leaderRuns, runs atomic.Int32
	k.Submit(dfk.Spec{App: "a", Key: key(22), Run: func(ctx context.Context, _ dfk.Env) (any, error) {
		leaderRuns.Add(1)
		<-ctx.Done()
		return nil, context.Cause(ctx)
	}})
	fs := followers(t, k, &leaderRuns, 3, dfk.Spec{App: "a", Key: key(22), Run: counting(&runs, "ok", nil)})
	k.Interrupt(dfk.ErrInterrupted)
	waitAll(t, k)
	for i, f := range fs {
		if _, err := f.Outcome(); !errors.Is(err, dfk.ErrInterrupted) {
			t.Errorf("follower %d: %v, want ErrInterrupted", i, err)
		}
	}
	if runs.Load() != 0 {
		t.Errorf("followers ran %d times after the interrupt, want none", runs.Load())
	}
}
