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
// Every transition happens in kernel.go under the task's lock; ExecDone,
// Failed and DepFail are final.
type State uint32

const (
	Pending State = iota
	Launched
	Running
	Joining
	ExecDone
	Failed
	DepFail
)

var stateNames = [...]string{"pending", "launched", "running", "joining", "exec_done", "failed", "dep_fail"}

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
	id    int
	app   string
	state atomic.Uint32 // a State

	mu        sync.Mutex
	value     any
	err       error
	ch        chan struct{} // made on first Wait, closed on settle
	callbacks []func()      // run once on settle, outside mu

	observed atomic.Bool
}

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
	if f.observed.Swap(true) {
		return
	}
	if _, err := f.Outcome(); err != nil {
		observeCauses(err)
	}
}

// Observed reports whether Observe was called.
func (f *Future) Observed() bool { return f.observed.Load() }

// OnDone runs fn once the future is done: at once (on this goroutine) if
// it already is, else on the goroutine that settles it.
func (f *Future) OnDone(fn func()) {
	f.mu.Lock()
	if f.State().Final() {
		f.mu.Unlock()
		fn()
		return
	}
	f.callbacks = append(f.callbacks, fn)
	f.mu.Unlock()
}

// setState moves a future that is not yet final to s.
func (f *Future) setState(s State) { f.state.Store(uint32(s)) }

// settle records the outcome and wakes everyone waiting. It reports false
// if the future was already final (a second settle is ignored).
func (f *Future) settle(s State, value any, err error) bool {
	f.mu.Lock()
	if f.State().Final() {
		f.mu.Unlock()
		return false
	}
	f.value, f.err = value, err
	f.state.Store(uint32(s))
	if f.ch != nil {
		close(f.ch)
	}
	cbs := f.callbacks
	f.callbacks = nil
	f.mu.Unlock()
	for _, cb := range cbs {
		cb()
	}
	return true
}

// NewSettled returns a future that is already done, for values that do not
// come from a task (tests, constants passed where a future is expected).
func NewSettled(id int, app string, value any, err error) *Future {
	f := &Future{id: id, app: app}
	s := ExecDone
	if err != nil {
		s = Failed
	}
	f.settle(s, value, err)
	return f
}
