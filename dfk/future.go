package dfk

import (
	"context"
	"sync"
	"sync/atomic"
)

// State is a task's place in its lifecycle.
//
//	           deps not done           deps done
//	Submit ──► Pending ───────────────────────────► Launched ──► Running ──┬─► ExecDone
//	              │                                     ▲                   ├─► Joining ──► ExecDone | Failed
//	              │ a dep failed                        │ retry             └─► Failed
//	              ▼                                     └──────── (cost within retries)
//	           DepFail
//
// A memoized task whose key is in the memo table goes from Launched
// straight to MemoDone. Every transition happens in kernel.go or memo.go
// (atomic stores; settle holds the future's lock); ExecDone, MemoDone,
// Failed and DepFail are final.
type State uint32

const (
	Pending State = iota
	Launched
	Running
	Joining
	ExecDone
	MemoDone // completed from the memo table without running
	Failed
	DepFail
)

var stateNames = [...]string{"pending", "launched", "running", "joining", "exec_done", "memo_done", "failed", "dep_fail"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Final reports whether the state is terminal.
func (s State) Final() bool { return s >= ExecDone }

// Future is the read side of a task's outcome. The kernel settles it once;
// readers never see it change afterwards.
type Future struct {
	id       int
	app      string
	state    atomic.Uint32 // a State
	observed atomic.Bool   // beside state, so the two share a word

	mu    sync.Mutex
	value any
	err   error
	ch    chan struct{} // made on first Wait, closed on settle
	// Released once, by settle. Most futures have one dependent, so the
	// first waiter is kept inline and needs no slice.
	first   waiter
	waiters []waiter
}

// waiter is what a future releases when it settles: a dependent task,
// kept as a pointer so an edge of the DAG costs no closure, or a function
// that returns the waiters it releases in turn. settle hands waiters to
// its caller instead of running them (see Kernel.drain).
type waiter struct {
	t  *task
	fn func() []waiter
}

func (w waiter) empty() bool { return w.t == nil && w.fn == nil }

// ID is the task id (Parsl's tid).
func (f *Future) ID() int { return f.id }

// App is the name of the task's app.
func (f *Future) App() string { return f.app }

// State is the task's current state.
func (f *Future) State() State { return State(f.state.Load()) }

// Done reports whether the task reached a final state.
func (f *Future) Done() bool { return f.State().Final() }

// Outcome returns the value and error of a done future. Before the
// future is done it returns (nil, nil).
func (f *Future) Outcome() (any, error) {
	if !f.Done() {
		return nil, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.value, f.err
}

// Wait blocks until the future is done or ctx ends, and returns its
// outcome. A ctx error is returned as is.
func (f *Future) Wait(ctx context.Context) (any, error) {
	if f.Done() {
		return f.Outcome()
	}
	f.mu.Lock()
	if f.ch == nil {
		f.ch = make(chan struct{})
	}
	ch := f.ch
	f.mu.Unlock()
	// Re-check after publishing ch: settle closes ch only if it existed.
	if f.Done() {
		return f.Outcome()
	}
	select {
	case <-ch:
		return f.Outcome()
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// Observe records that the script looked at this future's outcome, so its
// failure (and the failures it was caused by) is not reported as unseen.
func (f *Future) Observe() {
	// A list, not recursion: the causes of a failure at the end of a long
	// chain of dependency failures are as many as the chain is long.
	todo := []*Future{f}
	for len(todo) > 0 {
		g := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if g.observed.Swap(true) {
			continue
		}
		if _, err := g.Outcome(); err != nil {
			todo = appendCauses(todo, err)
		}
	}
}

// Observed reports whether Observe was called.
func (f *Future) Observed() bool { return f.observed.Load() }

// OnDone runs fn once the future is done: at once (on this goroutine) if
// it already is, else on the goroutine that settles it.
func (f *Future) OnDone(fn func()) {
	w := waiter{fn: func() []waiter { fn(); return nil }}
	if !f.addWaiter(w) {
		fn()
	}
}

// addWaiter queues w for when the future settles. It reports false, and
// keeps nothing, if the future is already done.
func (f *Future) addWaiter(w waiter) bool {
	f.mu.Lock()
	if f.State().Final() {
		f.mu.Unlock()
		return false
	}
	if f.first.empty() {
		f.first = w
	} else {
		f.waiters = append(f.waiters, w)
	}
	f.mu.Unlock()
	return true
}

// setState moves a future that is not yet final to s.
func (f *Future) setState(s State) { f.state.Store(uint32(s)) }

// settle records the outcome, wakes everyone blocked in Wait and appends
// the future's waiters to next. It reports false if the future was
// already final (a second settle is ignored).
func (f *Future) settle(s State, value any, err error, next []waiter) ([]waiter, bool) {
	f.mu.Lock()
	if f.State().Final() {
		f.mu.Unlock()
		return next, false
	}
	f.value, f.err = value, err
	f.state.Store(uint32(s))
	if f.ch != nil {
		close(f.ch)
	}
	if !f.first.empty() {
		next = append(next, f.first)
		next = append(next, f.waiters...)
	}
	f.first, f.waiters = waiter{}, nil
	f.mu.Unlock()
	return next, true
}

// NewSettled returns a future that is already done, for values that do not
// come from a task (tests, constants passed where a future is expected).
func NewSettled(id int, app string, value any, err error) *Future {
	f := &Future{id: id, app: app}
	s := ExecDone
	if err != nil {
		s = Failed
	}
	f.settle(s, value, err, nil) // a new future has no waiters to release
	return f
}
