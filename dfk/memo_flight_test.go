package dfk_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
)

// slowLookups is a memo table whose second lookup reads the table at once
// but answers only after the test says so, as a lookup that misses in
// memory and then waits for the disk does; the first lookup waits until
// the second has read, or until the second task follows the first.
type slowLookups struct {
	*table
	calls    atomic.Int32
	read     chan struct{} // closed once the second lookup has read
	answer   chan struct{} // closed by the test: the second lookup may return
	follower func() bool   // whether a task waits for another with its key
}

func (m *slowLookups) Lookup(ctx context.Context, k dfk.Key, app string) (any, bool) {
	switch m.calls.Add(1) {
	case 1:
		for {
			select {
			case <-m.read:
				return m.table.Lookup(ctx, k, app)
			case <-time.After(time.Millisecond):
				if m.follower() {
					return m.table.Lookup(ctx, k, app)
				}
			}
		}
	case 2:
		v, ok := m.table.Lookup(ctx, k, app)
		close(m.read)
		<-m.answer
		return v, ok
	}
	return m.table.Lookup(ctx, k, app)
}

// Two tasks with one key: the first may finish, record and leave while
// the second is still looking the key up and missing. The second must not
// run the work again; it waits for the first from the start.
func TestMemoLeaderLandsDuringLookup(t *testing.T) {
	t.Parallel()
	if runtime.NumCPU() < 2 {
		t.Skip("needs two memo-stage goroutines to look up two tasks at once")
	}
	m := &slowLookups{table: newTable(), read: make(chan struct{}), answer: make(chan struct{})}
	k := newKernel(t, 2, dfk.Config{Memo: m})
	m.follower = func() bool { return k.Counts().Waiting > 0 }
	var runs atomic.Int32
	first := k.Submit(dfk.Spec{App: "a", Run: counting(&runs, "v", nil), Key: key(9)})
	second := k.Submit(dfk.Spec{App: "a", Run: counting(&runs, "v", nil), Key: key(9)})
	// Let the second lookup answer once a task is done, or once one is
	// seen waiting for the other.
	for !first.Done() && !second.Done() && k.Counts().Waiting == 0 {
		time.Sleep(time.Millisecond)
	}
	close(m.answer)
	waitAll(t, k)
	if n := runs.Load(); n != 1 {
		t.Errorf("the work ran %d times, want once", n)
	}
	for _, f := range []*dfk.Future{first, second} {
		if v, err := f.Outcome(); v != "v" || err != nil {
			t.Errorf("task %d: %v %v", f.ID(), v, err)
		}
	}
}
