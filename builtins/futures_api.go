package builtins

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/starflow-hpc/starflow/dfk"
)

// The parts of Python's concurrent.futures API Parsl users call on
// AppFutures: add_done_callback, concurrent.futures.wait and as_completed.

// callbacks runs add_done_callback functions one at a time on a goroutine
// of the session's, in completion order: never on the goroutine that
// completed the task (that one must not block), and never two at once (a
// callback may update the script's values).
type callbacks struct {
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []func()
	pending int // registered and not yet run
	running bool
}

func (c *callbacks) init() {
	if c.cond == nil {
		c.cond = sync.NewCond(&c.mu)
	}
}

// register counts a callback that will be queued when its future is done.
func (c *callbacks) register() {
	c.mu.Lock()
	c.init()
	c.pending++
	c.mu.Unlock()
}

// push queues a registered callback and starts the runner if needed.
func (c *callbacks) push(fn func()) {
	c.mu.Lock()
	c.init()
	c.queue = append(c.queue, fn)
	if !c.running {
		c.running = true
		go c.run()
	}
	c.mu.Unlock()
}

// run executes queued callbacks and exits when the queue is empty; push
// starts it again.
func (c *callbacks) run() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		fn := c.queue[0]
		c.queue = c.queue[1:]
		c.mu.Unlock()
		fn()
		c.mu.Lock()
		c.pending--
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

// wait blocks until every registered callback has run or ctx ends. The
// session calls it after the kernels are done, so every future a callback
// waits for is settled.
func (c *callbacks) wait(ctx context.Context) {
	c.mu.Lock()
	c.init()
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	for c.pending > 0 && ctx.Err() == nil {
		c.cond.Wait()
	}
	c.mu.Unlock()
}

func futureAddDoneCallback(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fn starlark.Callable
	if err := unpackArgs(b.Name(), args, kwargs, "fn", &fn); err != nil {
		return nil, err
	}
	s, err := sessionOf(thread)
	if err != nil {
		return nil, err
	}
	w := b.Receiver().(waitable)
	s.callbacks.register()
	w.future().OnDone(func() {
		s.callbacks.push(func() {
			t := s.newThread("done_callback")
			if _, err := starlark.Call(t, fn, starlark.Tuple{w}, nil); err != nil {
				// As in Python: a failing callback is reported, not raised.
				s.log.Warn("done callback failed", "task_id", w.future().ID(), "error", err)
				fmt.Fprintf(s.opts.Stderr, "starflow: callback of task %d failed: %v\n", w.future().ID(), err)
			}
		})
	})
	return starlark.None, nil
}

// The return_when values of concurrent.futures.wait.
const (
	firstCompleted = "FIRST_COMPLETED"
	firstException = "FIRST_EXCEPTION"
	allCompleted   = "ALL_COMPLETED"
)

// FuturesModule is concurrent.futures: wait, as_completed and the
// return_when constants.
func FuturesModule() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "concurrent.futures", Members: starlark.StringDict{
		"wait":            starlark.NewBuiltin("wait", futuresWait),
		"as_completed":    starlark.NewBuiltin("as_completed", asCompleted),
		"FIRST_COMPLETED": starlark.String(firstCompleted),
		"FIRST_EXCEPTION": starlark.String(firstException),
		"ALL_COMPLETED":   starlark.String(allCompleted),
	}}
}

// waitables reads a sequence of AppFutures and DataFutures.
func waitables(fn string, v starlark.Value) ([]waitable, error) {
	it, ok := v.(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("%s: for parameter fs: got %s, want a list of futures", fn, v.Type())
	}
	var out []waitable
	iter := it.Iterate()
	defer iter.Done()
	var e starlark.Value
	for iter.Next(&e) {
		w, ok := e.(waitable)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter fs: got %s in the list, want AppFuture or DataFuture", fn, e.Type())
		}
		out = append(out, w)
	}
	return out, nil
}

// waitContext is the session's context, bounded by a timeout in seconds
// (None: no bound).
func waitContext(thread *starlark.Thread, fn string, timeout starlark.Value) (context.Context, context.CancelFunc, error) {
	ctx := context.Background()
	if s, err := sessionOf(thread); err == nil {
		ctx = s.Context()
	}
	if timeout == nil || timeout == starlark.None {
		return ctx, func() {}, nil
	}
	secs, ok := starlark.AsFloat(timeout)
	if !ok || secs < 0 {
		return nil, nil, fmt.Errorf("%s: for parameter timeout: got %s, want a number of seconds or None", fn, timeout.String())
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs*float64(time.Second)))
	return ctx, cancel, nil
}

// futuresWait is concurrent.futures.wait(fs, timeout=None,
// return_when=ALL_COMPLETED): (done, not_done), two sets.
func futuresWait(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fsV, timeout starlark.Value
	returnWhen := allCompleted
	if err := unpackArgs(b.Name(), args, kwargs, "fs", &fsV, "timeout?", &timeout, "return_when?", &returnWhen); err != nil {
		return nil, err
	}
	if returnWhen != firstCompleted && returnWhen != firstException && returnWhen != allCompleted {
		return nil, fmt.Errorf("%s: for parameter return_when: got %q, want FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED", b.Name(), returnWhen)
	}
	ws, err := waitables(b.Name(), fsV)
	if err != nil {
		return nil, err
	}
	ctx, cancel, err := waitContext(thread, b.Name(), timeout)
	if err != nil {
		return nil, err
	}
	defer cancel()
	// One channel hears about every completion; the loop re-checks the
	// condition each time.
	ch := make(chan struct{}, len(ws))
	for _, w := range ws {
		w.future().OnDone(func() { ch <- struct{}{} })
	}
wait:
	for !waitSatisfied(ws, returnWhen) {
		select {
		case <-ch:
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, context.Cause(ctx) // the run was interrupted
			}
			break wait // a timeout: Python returns what is done so far
		}
	}
	done, notDone := new(starlark.Set), new(starlark.Set)
	for _, w := range ws {
		set := notDone
		if w.future().Done() {
			set = done
		}
		if err := set.Insert(w); err != nil {
			return nil, err
		}
	}
	return starlark.Tuple{done, notDone}, nil
}

func waitSatisfied(ws []waitable, returnWhen string) bool {
	all := true
	for _, w := range ws {
		f := w.future()
		if !f.Done() {
			all = false
			continue
		}
		if returnWhen == firstCompleted {
			return true
		}
		if _, err := f.Outcome(); err != nil && returnWhen == firstException {
			return true
		}
	}
	return all
}

// asCompleted is concurrent.futures.as_completed(fs, timeout=None): an
// iterable that yields each future as it finishes, blocking the caller
// until the next one does.
func asCompleted(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fsV, timeout starlark.Value
	if err := unpackArgs(b.Name(), args, kwargs, "fs", &fsV, "timeout?", &timeout); err != nil {
		return nil, err
	}
	ws, err := waitables(b.Name(), fsV)
	if err != nil {
		return nil, err
	}
	ctx, cancel, err := waitContext(thread, b.Name(), timeout)
	if err != nil {
		return nil, err
	}
	c := &completions{ws: ws, ch: make(chan waitable, len(ws)), ctx: ctx, cancel: cancel, thread: thread}
	seen := map[*dfk.Future]bool{}
	for _, w := range ws {
		if seen[w.future()] {
			c.dups++ // Python yields each distinct future once
			continue
		}
		seen[w.future()] = true
		w.future().OnDone(func() { c.ch <- w })
	}
	return c, nil
}

// completions is what as_completed returns.
type completions struct {
	ws     []waitable
	ch     chan waitable
	dups   int
	ctx    context.Context
	cancel context.CancelFunc
	thread *starlark.Thread // the caller, stopped on a timeout
}

var _ starlark.Iterable = (*completions)(nil)

func (c *completions) String() string        { return "<as_completed iterator>" }
func (c *completions) Type() string          { return "as_completed" }
func (c *completions) Freeze()               {}
func (c *completions) Truth() starlark.Bool  { return true }
func (c *completions) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: as_completed") }
func (c *completions) Iterate() starlark.Iterator {
	return &completionIter{c: c, left: len(c.ws) - c.dups}
}

type completionIter struct {
	c    *completions
	left int
}

func (it *completionIter) Next(p *starlark.Value) bool {
	if it.left == 0 {
		it.c.cancel()
		return false
	}
	select {
	case w := <-it.c.ch:
		it.left--
		*p = w
		return true
	case <-it.c.ctx.Done():
		// Python raises TimeoutError here. A Starlark iterator cannot
		// fail, so the loop must not end as if every future were done:
		// the calling thread is stopped with the reason.
		it.c.thread.Cancel(fmt.Sprintf("TimeoutError: as_completed: %d of %d futures unfinished (%v)",
			it.left, len(it.c.ws)-it.c.dups, context.Cause(it.c.ctx)))
		return false
	}
}

func (it *completionIter) Done() {}
