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
	Retries      int
	RetryHandler RetryHandler // nil: every failure costs 1
	Logger       hclog.Logger // nil: discard
	Observer     Observer     // nil: none
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
		submitted, waiting, queued, running, done, failed atomic.Int64
	}

	outstanding atomic.Int64
	idleMu      sync.Mutex
	idleCh      chan struct{}

	failMu   sync.Mutex
	failures []*Future

	joins sync.WaitGroup // goroutines running join app bodies
}

// task is a Future plus what the kernel needs to run it. Embedding keeps a
// pending task to one allocation.
type task struct {
	Future
	k        *Kernel
	spec     Spec
	job      Job
	waiting  atomic.Int32 // deps not yet done, +1 while registering
	failCnt  int
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
	k.ctx, k.cancel = context.WithCancelCause(ctx)
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
	t := &task{k: k, spec: spec}
	t.id = int(k.nextID.Add(1) - 1)
	t.app = spec.App
	t.job = Job{ID: t.id, App: spec.App, Kind: spec.Kind, Run: spec.Run, t: t}
	k.outstanding.Add(1)
	k.counts.submitted.Add(1)
	k.counts.waiting.Add(1)
	k.event(t, Pending)
	if len(spec.Deps) == 0 {
		k.depsDone(t)
		return &t.Future
	}
	t.waiting.Store(int32(len(spec.Deps)) + 1)
	for _, d := range spec.Deps {
		d.OnDone(t.depDone)
	}
	t.depDone()
	return &t.Future
}

func (t *task) depDone() {
	if t.waiting.Add(-1) == 0 {
		t.k.depsDone(t)
	}
}

// depsDone runs when every dependency is final: fail or launch.
func (k *Kernel) depsDone(t *task) {
	k.counts.waiting.Add(-1)
	var failed []*Future
	for _, d := range t.spec.Deps {
		if _, err := d.Outcome(); err != nil && !containsFuture(failed, d) {
			failed = append(failed, d)
		}
	}
	if len(failed) > 0 {
		k.complete(t, DepFail, nil, &DependencyError{ID: t.id, App: t.app, Failed: failed})
		return
	}
	k.launch(t)
}

func containsFuture(fs []*Future, f *Future) bool {
	for _, g := range fs {
		if g == f {
			return true
		}
	}
	return false
}

// launch hands the task's next try to its executor.
func (k *Kernel) launch(t *task) {
	if err := context.Cause(k.ctx); err != nil {
		k.complete(t, Failed, nil, err)
		return
	}
	t.setState(Launched)
	k.counts.queued.Add(1)
	k.event(t, Launched)
	if t.spec.Kind == JoinApp {
		k.joins.Add(1)
		go func() {
			defer k.joins.Done()
			t.job.Started()
			v, err := t.job.Run(k.ctx, Env{ID: t.id, Try: t.job.Try})
			t.job.Finish(v, err)
		}()
		return
	}
	ex := k.def
	if t.spec.Executor != "" {
		var ok bool
		if ex, ok = k.executors[t.spec.Executor]; !ok {
			k.counts.queued.Add(-1)
			k.complete(t, Failed, nil, &TaskError{ID: t.id, App: t.app,
				Err: fmt.Errorf("no executor labelled %q (have %v)", t.spec.Executor, k.Labels())})
			return
		}
	}
	ex.Submit(&t.job)
}

// Started tells the kernel that an executor began running this try.
func (j *Job) Started() {
	t := j.t
	t.k.counts.queued.Add(-1)
	t.k.counts.running.Add(1)
	t.setState(Running)
	t.k.event(t, Running)
}

func (j *Job) finishTry(value any, err error) {
	t := j.t
	k := t.k
	k.counts.running.Add(-1)
	if err == nil {
		if jn, ok := value.(*Join); ok && t.spec.Kind == JoinApp {
			k.join(t, jn)
			return
		}
		k.complete(t, ExecDone, value, nil)
		return
	}
	if cause := context.Cause(k.ctx); cause != nil {
		k.complete(t, Failed, nil, &TaskError{ID: t.id, App: t.app, Err: err})
		return
	}
	t.failCnt++
	cost := 1.0
	if h := k.cfg.RetryHandler; h != nil {
		c, herr := h(err, TaskInfo{ID: t.id, App: t.app, Executor: t.spec.Executor,
			FailCount: t.failCnt, FailCost: t.failCost, Try: j.Try})
		if herr != nil {
			k.complete(t, Failed, nil, &TaskError{ID: t.id, App: t.app,
				Err: fmt.Errorf("retry_handler: %w (handling: %v)", herr, err)})
			return
		}
		cost = c
	}
	t.failCost += cost
	if t.failCost <= float64(k.cfg.Retries) {
		k.log.Debug("task retry", "task_id", t.id, "app", t.app, "try", j.Try, "error", err)
		j.Try++
		k.launch(t)
		return
	}
	k.complete(t, Failed, nil, &TaskError{ID: t.id, App: t.app, Err: err})
}

// join waits for the futures a join app returned, then completes the task.
func (k *Kernel) join(t *task, jn *Join) {
	t.setState(Joining)
	k.counts.waiting.Add(1)
	k.event(t, Joining)
	if len(jn.Futures) == 0 {
		k.counts.waiting.Add(-1)
		k.joinDone(t, jn)
		return
	}
	var left atomic.Int32
	left.Store(int32(len(jn.Futures)))
	for _, f := range jn.Futures {
		f.OnDone(func() {
			if left.Add(-1) == 0 {
				k.counts.waiting.Add(-1)
				k.joinDone(t, jn)
			}
		})
	}
}

func (k *Kernel) joinDone(t *task, jn *Join) {
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
		k.complete(t, Failed, nil, err)
	case len(failed) > 0:
		k.complete(t, Failed, nil, &JoinError{ID: t.id, App: t.app, Failed: failed})
	case jn.Combine == nil:
		k.complete(t, ExecDone, values[0], nil)
	default:
		k.complete(t, ExecDone, jn.Combine(values), nil)
	}
}

// complete settles the task's future in a final state. It is the only
// place tasks leave the graph.
func (k *Kernel) complete(t *task, s State, value any, err error) {
	if !t.settle(s, value, err) {
		return
	}
	if s == ExecDone {
		k.counts.done.Add(1)
	} else {
		k.counts.failed.Add(1)
		k.failMu.Lock()
		k.failures = append(k.failures, &t.Future)
		k.failMu.Unlock()
		k.log.Debug("task failed", "task_id", t.id, "app", t.app, "state", s, "error", err)
	}
	k.event(t, s)
	// Drop what the task no longer needs so a finished task holds only
	// its outcome.
	t.spec.Deps, t.spec.Run, t.job.Run = nil, nil, nil
	if k.outstanding.Add(-1) == 0 {
		k.idleMu.Lock()
		if k.idleCh != nil {
			close(k.idleCh)
			k.idleCh = nil
		}
		k.idleMu.Unlock()
	}
}

func (k *Kernel) event(t *task, s State) {
	if o := k.cfg.Observer; o != nil {
		o.TaskEvent(t.id, t.app, s, t.job.Try)
	}
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
	for _, ex := range k.cfg.Executors {
		if err := ex.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down executor %q: %w", ex.Label(), err))
		}
	}
	k.joins.Wait()
	k.cancel(errors.New("kernel shut down"))
	return errors.Join(errs...)
}

// Counts is a snapshot of the graph, for progress and summaries.
type Counts struct {
	Submitted, Waiting, Queued, Running, Done, Failed int64
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
