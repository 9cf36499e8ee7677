package dfk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
)

// Config configures a Kernel.
type Config struct {
	// Executors run python and bash tasks; the first is the default.
	Executors []Executor
	// Retries is Parsl's retries: a task is retried while the summed cost
	// of its failures is at most Retries.
	Retries int
	// LostRetries is how many tries of a task lost with their resources
	// (errors that are ResourceLost) are run again without charging
	// Retries. 0 charges them like any failure.
	LostRetries  int
	RetryHandler RetryHandler // nil: every failure costs 1
	Logger       hclog.Logger // nil: discard
	Observer     Observer     // nil: none
	Memo         Memoizer     // nil: nothing is memoized
}

// Kernel is one DataFlowKernel: Parsl's DFK for one run.
type Kernel struct {
	cfg       Config
	log       hclog.Logger
	executors map[string]Executor
	def       Executor

	ctx    context.Context
	cancel context.CancelCauseFunc

	nextID atomic.Int64
	counts struct {
		submitted, waiting, queued, running, done, failed, memoHits atomic.Int64
	}
	memo *memoStage // nil without a Memoizer
	// keys is the Observer when it wants memo keys too; nil otherwise.
	keys KeyObserver

	outstanding atomic.Int64
	idleMu      sync.Mutex
	idleCh      chan struct{}

	failMu   sync.Mutex
	failures []*Future

	// joins runs join app bodies. launch reaches it through the Executor
	// interface, as it does every executor: a direct call would make
	// launch and Job.Finish one recursive cycle, and the compiler would
	// then move the buffers drain works in from the stack to the heap.
	joins Executor
}

// task is a Future plus what the kernel needs to run it. Embedding keeps a
// pending task to one allocation, and it keeps only the parts of its Spec
// the kernel reads again (App, Kind and Run live in job): a million
// pending tasks must fit in memory.
type task struct {
	Future
	k        *Kernel
	deps     []*Future
	executor string
	job      Job
	keyFn    func() (Key, error) // memoized tasks, until the key is known
	key      *Key                // memoized tasks in flight
	waiting  atomic.Int32        // deps not yet done, +1 while registering
	failCnt  int32
	lostCnt  int32 // tries lost with their resources (not charged)
	failCost float64
}

// New makes a kernel and starts its executors.
func New(ctx context.Context, cfg Config) (*Kernel, error) {
	if len(cfg.Executors) == 0 {
		return nil, errors.New("dfk: no executors configured")
	}
	k := &Kernel{cfg: cfg, log: cfg.Logger, executors: make(map[string]Executor)}
	if k.log == nil {
		k.log = hclog.NewNullLogger()
	}
	for _, ex := range cfg.Executors {
		if _, dup := k.executors[ex.Label()]; dup {
			return nil, fmt.Errorf("dfk: two executors labelled %q", ex.Label())
		}
		k.executors[ex.Label()] = ex
	}
	k.def = cfg.Executors[0]
	k.keys, _ = cfg.Observer.(KeyObserver)
	k.ctx, k.cancel = context.WithCancelCause(ctx)
	k.joins = &joinRunner{ctx: k.ctx}
	if cfg.Memo != nil {
		k.memo = newMemoStage(k)
	}
	for i, ex := range cfg.Executors {
		if err := ex.Start(k.ctx); err != nil {
			for _, started := range cfg.Executors[:i] {
				_ = started.Shutdown(context.Background())
			}
			return nil, fmt.Errorf("start executor %q: %w", ex.Label(), err)
		}
	}
	return k, nil
}

// HasExecutor reports whether label names one of the kernel's executors.
func (k *Kernel) HasExecutor(label string) bool {
	_, ok := k.executors[label]
	return ok
}

// Labels lists the executors' labels in configuration order.
func (k *Kernel) Labels() []string {
	out := make([]string, len(k.cfg.Executors))
	for i, ex := range k.cfg.Executors {
		out[i] = ex.Label()
	}
	return out
}

// Submit adds a task to the graph and returns its future at once.
func (k *Kernel) Submit(spec Spec) *Future {
	t := &task{k: k, deps: spec.Deps, executor: spec.Executor}
	t.id = int(k.nextID.Add(1) - 1)
	if k.memo != nil && spec.Kind != JoinApp {
		t.keyFn = spec.Key
		if k.keys != nil && spec.Key != nil {
			t.keyFn = observeKey(k.keys, t.id, spec.Key)
		}
	}
	t.app = spec.App
	t.job = Job{ID: t.id, App: spec.App, Kind: spec.Kind, Run: spec.Run, Payload: spec.Payload, t: t}
	k.outstanding.Add(1)
	k.counts.submitted.Add(1)
	k.counts.waiting.Add(1)
	if o := k.cfg.Observer; o != nil {
		e := Event{ID: t.id, App: t.app, Kind: spec.Kind, Executor: t.executor, State: Pending,
			Memo: t.keyFn != nil}
		if len(spec.Deps) > 0 {
			e.Deps = make([]int, len(spec.Deps))
			for i, d := range spec.Deps {
				e.Deps[i] = d.id
			}
		}
		if spec.Logs != nil {
			e.Stdout, e.Stderr = spec.Logs(t.id)
		}
		o.TaskEvent(e)
	}
	k.debugEvent(t, Pending)
	// The +1 keeps the task from starting while deps are registered.
	t.waiting.Store(int32(len(spec.Deps)) + 1)
	for _, d := range spec.Deps {
		if !d.addWaiter(waiter{t: t}) {
			t.waiting.Add(-1)
		}
	}
	if t.waiting.Add(-1) == 0 {
		var buf [4]waiter
		k.drain(k.depsDone(t, buf[:0]))
	}
	return &t.Future
}

// observeKey wraps a task's key function so that the key it computes
// reaches the observer too; only tasks of a run whose observer wants
// keys pay for the wrapper.
func observeKey(o KeyObserver, id int, fn func() (Key, error)) func() (Key, error) {
	return func() (Key, error) {
		key, err := fn()
		if err == nil {
			o.TaskKey(id, key)
		}
		return key, err
	}
}

// Settling a future releases its waiters, and a dependent whose deps are
// all done may settle at once (a dependency failure), releasing more.
// Done by recursion, a failure at the head of a long chain would nest a
// call per task and overflow the stack. Instead the functions below that
// take and return next append the waiters their tasks release, as append
// does, and drain runs them from that one list. (A slice is threaded, not
// a pointer to one, so a caller's small buffer stays on its stack.)

// drain runs the waiters in next and those they release in turn.
func (k *Kernel) drain(next []waiter) {
	for i := 0; i < len(next); i++ {
		w := next[i]
		if w.fn != nil {
			next = append(next, w.fn()...)
		} else if w.t.waiting.Add(-1) == 0 {
			next = k.depsDone(w.t, next)
		}
		if i >= 1024 && 2*i >= len(next) {
			// Reclaim the front so a long cascade runs in constant space.
			n := copy(next, next[i+1:])
			next, i = next[:n], -1
		}
	}
}

// depsDone runs when every dependency is final: fail or launch.
func (k *Kernel) depsDone(t *task, next []waiter) []waiter {
	k.counts.waiting.Add(-1)
	var failed []*Future
	for _, d := range t.deps {
		if _, err := d.Outcome(); err != nil && !containsFuture(failed, d) {
			failed = append(failed, d)
		}
	}
	if len(failed) > 0 {
		return k.complete(t, DepFail, nil, &DependencyError{ID: t.id, App: t.app, Failed: failed}, next)
	}
	if t.keyFn != nil && context.Cause(k.ctx) == nil {
		t.setState(Launched)
		k.counts.queued.Add(1)
		k.memo.submit(t)
		return next
	}
	return k.launch(t, next)
}

func containsFuture(fs []*Future, f *Future) bool {
	for _, g := range fs {
		if g == f {
			return true
		}
	}
	return false
}

// launch hands the task's first try to its executor.
func (k *Kernel) launch(t *task, next []waiter) []waiter { return k.relaunch(t, nil, next) }

// relaunch hands the task's next try to its executor; prev is the failure
// of the try before it, nil for the first.
func (k *Kernel) relaunch(t *task, prev error, next []waiter) []waiter {
	if err := context.Cause(k.ctx); err != nil {
		return k.complete(t, Failed, nil, err, next)
	}
	t.setState(Launched)
	k.counts.queued.Add(1)
	k.event(t, Launched, prev)
	ex := k.def
	switch {
	case t.job.Kind == JoinApp:
		ex = k.joins
	case t.executor != "":
		var ok bool
		if ex, ok = k.executors[t.executor]; !ok {
			k.counts.queued.Add(-1)
			return k.complete(t, Failed, nil, &TaskError{ID: t.id, App: t.app,
				Err: fmt.Errorf("no executor labelled %q (have %v)", t.executor, k.Labels())}, next)
		}
	}
	ex.Submit(&t.job)
	return next
}

// Started tells the kernel that an executor began running this try.
func (j *Job) Started() { j.StartedOn(Where{}) }

// StartedOn is Started for executors that know where the try runs; the
// observer (monitoring) records it.
func (j *Job) StartedOn(w Where) {
	t := j.t
	t.k.counts.queued.Add(-1)
	t.k.counts.running.Add(1)
	t.setState(Running)
	if o := t.k.cfg.Observer; o != nil {
		o.TaskEvent(Event{ID: t.id, App: t.app, Kind: t.job.Kind, Executor: t.executor,
			State: Running, Try: t.job.Try, Where: w})
	}
	t.k.debugEvent(t, Running)
}

func (j *Job) finishTry(value any, err error) {
	var buf [4]waiter
	j.t.k.drain(j.t.k.tryDone(j.t, value, err, buf[:0]))
}

// tryDone moves a task on after a try: done, joining, retried or failed.
func (k *Kernel) tryDone(t *task, value any, err error, next []waiter) []waiter {
	k.counts.running.Add(-1)
	if err == nil {
		if jn, ok := value.(*Join); ok && t.job.Kind == JoinApp {
			return k.join(t, jn, next)
		}
		if t.key != nil {
			k.memo.landed(t, value)
			return next
		}
		return k.complete(t, ExecDone, value, nil, next)
	}
	if cause := context.Cause(k.ctx); cause != nil {
		return k.complete(t, Failed, nil, &TaskError{ID: t.id, App: t.app, Err: err}, next)
	}
	if lost, ok := err.(ResourceLost); ok && lost.ResourceLost() && int(t.lostCnt) < k.cfg.LostRetries {
		// Losing a block is not the task's fault: run it again without
		// spending one of its retries.
		t.lostCnt++
		k.log.Info("task lost with its resources, resubmitted", "task_id", t.id, "app", t.app, "try", t.job.Try, "error", err)
		t.job.Try++
		return k.relaunch(t, err, next)
	}
	t.failCnt++
	cost := 1.0
	if h := k.cfg.RetryHandler; h != nil {
		c, herr := h(err, TaskInfo{ID: t.id, App: t.app, Executor: t.executor,
			FailCount: int(t.failCnt), FailCost: t.failCost, Try: t.job.Try})
		if herr != nil {
			return k.complete(t, Failed, nil, &TaskError{ID: t.id, App: t.app,
				Err: fmt.Errorf("retry_handler: %w (handling: %v)", herr, err)}, next)
		}
		cost = c
	}
	t.failCost += cost
	if t.failCost <= float64(k.cfg.Retries) {
		k.log.Debug("task retry", "task_id", t.id, "app", t.app, "try", t.job.Try, "error", err)
		t.job.Try++
		return k.relaunch(t, err, next)
	}
	return k.complete(t, Failed, nil, &TaskError{ID: t.id, App: t.app, Err: err}, next)
}

// join waits for the futures a join app returned, then completes the task.
func (k *Kernel) join(t *task, jn *Join, next []waiter) []waiter {
	t.setState(Joining)
	k.counts.waiting.Add(1)
	k.event(t, Joining, nil)
	// One waiter shared by every joined future; the +1 keeps the join
	// from finishing while they are registered.
	var left atomic.Int32
	left.Store(int32(len(jn.Futures)) + 1)
	done := func() []waiter {
		if left.Add(-1) != 0 {
			return nil
		}
		k.counts.waiting.Add(-1)
		return k.joinDone(t, jn, nil)
	}
	for _, f := range jn.Futures {
		if !f.addWaiter(waiter{fn: done}) {
			left.Add(-1)
		}
	}
	return append(next, done()...)
}

func (k *Kernel) joinDone(t *task, jn *Join, next []waiter) []waiter {
	values := make([]any, len(jn.Futures))
	var failed []*Future
	for i, f := range jn.Futures {
		v, err := f.Outcome()
		if err != nil {
			failed = append(failed, f)
		}
		values[i] = v
	}
	switch {
	case len(failed) == 1 && !jn.List:
		// Parsl: a join app that returned one future fails as it did.
		_, err := failed[0].Outcome()
		failed[0].Observe()
		return k.complete(t, Failed, nil, err, next)
	case len(failed) > 0:
		return k.complete(t, Failed, nil, &JoinError{ID: t.id, App: t.app, Failed: failed}, next)
	case jn.Combine == nil && len(values) == 0:
		// An empty join has no first value to stand for it.
		return k.complete(t, ExecDone, nil, nil, next)
	case jn.Combine == nil:
		return k.complete(t, ExecDone, values[0], nil, next)
	default:
		return k.complete(t, ExecDone, jn.Combine(values), nil, next)
	}
}

// complete settles the task's future in a final state. It is the only
// place tasks leave the graph.
func (k *Kernel) complete(t *task, s State, value any, err error, next []waiter) []waiter {
	next, ok := t.settle(s, value, err, next)
	if !ok {
		return next
	}
	if t.key != nil && s != ExecDone {
		next = k.memo.failed(t, next)
	}
	if s == ExecDone || s == MemoDone {
		k.counts.done.Add(1)
	} else {
		k.counts.failed.Add(1)
		k.failMu.Lock()
		k.failures = append(k.failures, &t.Future)
		k.failMu.Unlock()
		k.log.Debug("task failed", "task_id", t.id, "app", t.app, "state", s, "error", err)
	}
	k.event(t, s, err)
	// Drop what the task no longer needs so a finished task holds only
	// its outcome.
	t.deps, t.job.Run, t.job.Payload, t.keyFn, t.key = nil, nil, nil, nil, nil
	if k.outstanding.Add(-1) == 0 {
		k.idleMu.Lock()
		if k.idleCh != nil {
			close(k.idleCh)
			k.idleCh = nil
		}
		k.idleMu.Unlock()
	}
	return next
}

func (k *Kernel) event(t *task, s State, err error) {
	if o := k.cfg.Observer; o != nil {
		o.TaskEvent(Event{ID: t.id, App: t.app, Kind: t.job.Kind, Executor: t.executor,
			State: s, Try: t.job.Try, Err: err})
	}
	k.debugEvent(t, s)
}

func (k *Kernel) debugEvent(t *task, s State) {
	if k.log.IsDebug() {
		k.log.Debug("task state", "task_id", t.id, "app", t.app, "state", s.String(), "try", t.job.Try)
	}
}

// WaitAll blocks until no task is outstanding (tasks submitted meanwhile,
// by join apps for instance, are waited for too) or ctx ends.
func (k *Kernel) WaitAll(ctx context.Context) error {
	for {
		k.idleMu.Lock()
		if k.outstanding.Load() == 0 {
			k.idleMu.Unlock()
			return nil
		}
		if k.idleCh == nil {
			k.idleCh = make(chan struct{})
		}
		ch := k.idleCh
		k.idleMu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// Interrupt stops the run: nothing new is launched, running tries see
// their context cancelled with cause, and tasks not yet run fail with it.
func (k *Kernel) Interrupt(cause error) { k.cancel(cause) }

// Context is cancelled when the run is interrupted.
func (k *Kernel) Context() context.Context { return k.ctx }

// Shutdown stops the executors after the tasks are done (or the run was
// interrupted) and waits for join goroutines to return.
func (k *Kernel) Shutdown(ctx context.Context) error {
	var errs []error
	if k.memo != nil {
		k.memo.shutdown()
	}
	for _, ex := range k.cfg.Executors {
		if err := ex.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down executor %q: %w", ex.Label(), err))
		}
	}
	_ = k.joins.Shutdown(ctx) // waits for the bodies; it has no error to give
	k.cancel(errors.New("kernel shut down"))
	return errors.Join(errs...)
}

// Counts is a snapshot of the graph, for progress and summaries.
type Counts struct {
	Submitted, Waiting, Queued, Running, Done, Failed int64
	MemoHits                                          int64 // of Done, completed from the memo table
}

// Counts returns the current task counts. The fields are read one by one,
// so a snapshot taken while tasks move may be off by a task.
func (k *Kernel) Counts() Counts {
	return Counts{
		Submitted: k.counts.submitted.Load(),
		Waiting:   k.counts.waiting.Load(),
		Queued:    k.counts.queued.Load(),
		Running:   k.counts.running.Load(),
		Done:      k.counts.done.Load(),
		Failed:    k.counts.failed.Load(),
		MemoHits:  k.counts.memoHits.Load(),
	}
}

// Failures returns the failed tasks' futures in completion order.
func (k *Kernel) Failures() []*Future {
	k.failMu.Lock()
	defer k.failMu.Unlock()
	return append([]*Future(nil), k.failures...)
}

// Unseen returns the failed tasks whose outcome the script never looked
// at, directly or through a dependent's error: these make a run fail.
func (k *Kernel) Unseen() []*Future {
	var out []*Future
	for _, f := range k.Failures() {
		if !f.Observed() {
			out = append(out, f)
		}
	}
	return out
}

// joinRunner runs join app bodies in this process, each on a goroutine of
// its own: a body may block on other futures, so it must not hold a slot
// of an executor that the tasks it waits for need.
type joinRunner struct {
	ctx context.Context
	wg  sync.WaitGroup
}

func (r *joinRunner) Label() string               { return "join" }
func (r *joinRunner) Start(context.Context) error { return nil }

func (r *joinRunner) Submit(j *Job) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		j.Started()
		v, err := j.Run(r.ctx, Env{ID: j.ID, Try: j.Try})
		j.Finish(v, err)
	}()
}

// Shutdown waits for the bodies to return, which they do promptly once
// the run's context is cancelled.
func (r *joinRunner) Shutdown(context.Context) error {
	r.wg.Wait()
	return nil
}
