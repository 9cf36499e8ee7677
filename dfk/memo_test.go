package dfk_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
)

// table is an in-memory Memoizer; durable, when set, holds each Record's
// done until the test releases it, as a slow disk would.
type table struct {
	mu      sync.Mutex
	vals    map[dfk.Key]any
	durable chan func()
}

func newTable() *table { return &table{vals: map[dfk.Key]any{}} }

func (m *table) Lookup(_ context.Context, k dfk.Key, _ string) (any, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vals[k]
	return v, ok
}

func (m *table) Record(k dfk.Key, _ string, v any, done func()) {
	m.mu.Lock()
	m.vals[k] = v
	m.mu.Unlock()
	if m.durable != nil {
		m.durable <- done
		return
	}
	done()
}

func key(b byte) func() (dfk.Key, error) {
	return func() (dfk.Key, error) { return dfk.Key{b}, nil }
}

// counting returns a Run that counts its executions and returns v after
// hold is closed (nil: at once).
func counting(n *atomic.Int32, v any, hold chan struct{}) func(context.Context, dfk.Env) (any, error) {
	return func(context.Context, dfk.Env) (any, error) {
		n.Add(1)
		if hold != nil {
			<-hold
		}
		return v, nil
	}
}

func TestMemoHitDoesNotRun(t *testing.T) {
	t.Parallel()
	m := newTable()
	m.vals[dfk.Key{1}] = "stored"
	k := newKernel(t, 2, dfk.Config{Memo: m})
	var runs atomic.Int32
	f := k.Submit(dfk.Spec{App: "a", Run: counting(&runs, "fresh", nil), Key: key(1)})
	waitAll(t, k)
	if v, err := f.Outcome(); v != "stored" || err != nil || f.State() != dfk.MemoDone {
		t.Errorf("outcome %v %v state %v, want stored from the table", v, err, f.State())
	}
	if runs.Load() != 0 {
		t.Errorf("ran %d times on a hit", runs.Load())
	}
	if c := k.Counts(); c.MemoHits != 1 || c.Done != 1 {
		t.Errorf("counts %+v", c)
	}
}

func TestMemoMissRecordsAndSameArgsRunOnce(t *testing.T) {
	t.Parallel()
	m := newTable()
	k := newKernel(t, 2, dfk.Config{Memo: m})
	var runs atomic.Int32
	first := k.Submit(dfk.Spec{App: "a", Run: counting(&runs, 7, nil), Key: key(2)})
	waitAll(t, k)
	second := k.Submit(dfk.Spec{App: "a", Run: counting(&runs, 8, nil), Key: key(2)})
	waitAll(t, k)
	if runs.Load() != 1 {
		t.Errorf("ran %d times, want once", runs.Load())
	}
	v1, _ := first.Outcome()
	v2, _ := second.Outcome()
	if v1 != 7 || v2 != 7 || second.State() != dfk.MemoDone {
		t.Errorf("values %v %v, second %v", v1, v2, second.State())
	}
}

func TestMemoIdenticalInFlightRunOnce(t *testing.T) {
	t.Parallel()
	k := newKernel(t, 4, dfk.Config{Memo: newTable()})
	var runs atomic.Int32
	hold := make(chan struct{})
	var fs []*dfk.Future
	for i := 0; i < 10; i++ {
		fs = append(fs, k.Submit(dfk.Spec{App: "a", Run: counting(&runs, "v", hold), Key: key(3)}))
	}
	// Let all ten reach the memo stage while the first one runs.
	deadline := time.Now().Add(5 * time.Second)
	for runs.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	for time.Now().Before(deadline) {
		if c := k.Counts(); c.Waiting == 9 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(hold)
	waitAll(t, k)
	if runs.Load() != 1 {
		t.Errorf("identical tasks in flight ran %d times, want 1", runs.Load())
	}
	for i, f := range fs {
		if v, err := f.Outcome(); v != "v" || err != nil {
			t.Errorf("task %d: %v %v", i, v, err)
		}
	}
}

func TestMemoLeaderFailsFollowersRun(t *testing.T) {
	t.Parallel()
	k := newKernel(t, 2, dfk.Config{Memo: newTable()})
	hold := make(chan struct{})
	var runs atomic.Int32
	leader := k.Submit(dfk.Spec{App: "a", Key: key(4), Run: func(context.Context, dfk.Env) (any, error) {
		runs.Add(1)
		<-hold
		return nil, errors.New("boom")
	}})
	for runs.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	follower := k.Submit(dfk.Spec{App: "a", Key: key(4), Run: counting(&runs, "ok", nil)})
	for k.Counts().Waiting != 1 {
		time.Sleep(time.Millisecond)
	}
	close(hold)
	waitAll(t, k)
	if _, err := leader.Outcome(); err == nil {
		t.Error("leader succeeded")
	}
	if v, err := follower.Outcome(); v != "ok" || err != nil {
		t.Errorf("follower: %v %v, want it to run itself", v, err)
	}
	if runs.Load() != 2 {
		t.Errorf("runs %d, want 2", runs.Load())
	}
}

func TestMemoDependentsWaitForDurability(t *testing.T) {
	t.Parallel()
	m := newTable()
	m.durable = make(chan func(), 1)
	k := newKernel(t, 2, dfk.Config{Memo: m})
	var runs atomic.Int32
	a := k.Submit(dfk.Spec{App: "a", Run: counting(&runs, 1, nil), Key: key(5)})
	b := k.Submit(dfk.Spec{App: "b", Run: counting(&runs, 2, nil), Deps: []*dfk.Future{a}})
	done := <-m.durable
	time.Sleep(20 * time.Millisecond)
	if a.Done() || b.Done() || runs.Load() != 1 {
		t.Fatalf("before the record is durable: a done %v, b done %v, runs %d", a.Done(), b.Done(), runs.Load())
	}
	done()
	waitAll(t, k)
	if runs.Load() != 2 || !b.Done() {
		t.Errorf("after: runs %d, b done %v", runs.Load(), b.Done())
	}
}

func TestMemoUnhashableArgsStillRun(t *testing.T) {
	t.Parallel()
	k := newKernel(t, 1, dfk.Config{Memo: newTable()})
	var runs atomic.Int32
	f := k.Submit(dfk.Spec{App: "a", Run: counting(&runs, 1, nil),
		Key: func() (dfk.Key, error) { return dfk.Key{}, errors.New("open file in args") }})
	waitAll(t, k)
	if v, err := f.Outcome(); v != 1 || err != nil || runs.Load() != 1 {
		t.Errorf("%v %v runs %d", v, err, runs.Load())
	}
}
