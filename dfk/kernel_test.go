// The kernel's tests run it on the real thread pool, so they live in an
// external package: threadpool imports dfk.
package dfk_test

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/executors/threadpool"
)

type runFunc = func(ctx context.Context, env dfk.Env) (any, error)

// newKernel starts a kernel on a real thread pool of slots goroutines and
// shuts it down when the test ends.
func newKernel(t testing.TB, slots int, cfg dfk.Config) *dfk.Kernel {
	t.Helper()
	return newKernelCtx(t, context.Background(), slots, cfg)
}

func newKernelCtx(t testing.TB, ctx context.Context, slots int, cfg dfk.Config) *dfk.Kernel {
	t.Helper()
	pool, err := threadpool.New("pool", slots)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Executors = append([]dfk.Executor{pool}, cfg.Executors...)
	k, err := dfk.New(ctx, cfg)
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

func waitAll(t testing.TB, k *dfk.Kernel) {
	t.Helper()
	if err := k.WaitAll(context.Background()); err != nil {
		t.Fatalf("WaitAll: %v", err)
	}
}

func returns(v any) runFunc {
	return func(context.Context, dfk.Env) (any, error) { return v, nil }
}

func raises(err error) runFunc {
	return func(context.Context, dfk.Env) (any, error) { return nil, err }
}

// gated returns a Run that blocks until release is called (or the run is
// interrupted) and then returns v.
func gated(v any) (run runFunc, release func()) {
	gate := make(chan struct{})
	var once sync.Once
	run = func(ctx context.Context, _ dfk.Env) (any, error) {
		select {
		case <-gate:
			return v, nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	return run, func() { once.Do(func() { close(gate) }) }
}

// sumOf returns a Run that adds up its deps' int values, and records an
// error if it runs before one of them is done.
func sumOf(t testing.TB, deps []*dfk.Future, ran *atomic.Int32) runFunc {
	return func(context.Context, dfk.Env) (any, error) {
		ran.Add(1)
		sum := 0
		for _, d := range deps {
			if !d.Done() {
				t.Errorf("ran before dependency task %d was done", d.ID())
			}
			v, _ := d.Outcome()
			sum += v.(int)
		}
		return sum, nil
	}
}

func outcome(t testing.TB, f *dfk.Future) (any, error) {
	t.Helper()
	v, err := f.Wait(context.Background())
	if !f.State().Final() {
		t.Fatalf("task %d: Wait returned in state %v", f.ID(), f.State())
	}
	return v, err
}

var errBoom = errors.New("boom")

func TestNoDeps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		run       runFunc
		wantValue any
		wantErr   error
		wantState dfk.State
	}{
		{"value", returns(42), 42, nil, dfk.ExecDone},
		{"nil value", returns(nil), nil, nil, dfk.ExecDone},
		{"error", raises(errBoom), nil, errBoom, dfk.Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := newKernel(t, 2, dfk.Config{})
			f := k.Submit(dfk.Spec{App: "app", Run: tt.run})
			v, err := outcome(t, f)
			if f.State() != tt.wantState {
				t.Errorf("state = %v, want %v", f.State(), tt.wantState)
			}
			if v != tt.wantValue {
				t.Errorf("value = %v, want %v", v, tt.wantValue)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				var te *dfk.TaskError
				if !errors.As(err, &te) || te.ID != f.ID() || te.App != "app" {
					t.Errorf("error = %#v, want a *TaskError for task %d (app)", err, f.ID())
				}
			}
		})
	}
}

func TestDeps(t *testing.T) {
	t.Parallel()
	// Each case builds the deps of one summing task; release lets pending
	// deps finish after the dependent was submitted.
	tests := []struct {
		name  string
		build func(k *dfk.Kernel) (deps []*dfk.Future, release func())
		want  int
	}{
		{"none", func(*dfk.Kernel) ([]*dfk.Future, func()) { return nil, func() {} }, 0},
		{"done", func(*dfk.Kernel) ([]*dfk.Future, func()) {
			return []*dfk.Future{dfk.NewSettled(-1, "c", 1, nil), dfk.NewSettled(-2, "c", 2, nil)}, func() {}
		}, 3},
		{"pending", func(k *dfk.Kernel) ([]*dfk.Future, func()) {
			r1, rel1 := gated(1)
			r2, rel2 := gated(2)
			return []*dfk.Future{k.Submit(dfk.Spec{App: "a", Run: r1}), k.Submit(dfk.Spec{App: "b", Run: r2})},
				func() { rel2(); rel1() }
		}, 3},
		{"done and pending", func(k *dfk.Kernel) ([]*dfk.Future, func()) {
			r, rel := gated(5)
			return []*dfk.Future{dfk.NewSettled(-1, "c", 1, nil), k.Submit(dfk.Spec{App: "a", Run: r})}, rel
		}, 6},
		{"duplicates", func(k *dfk.Kernel) ([]*dfk.Future, func()) {
			r, rel := gated(4)
			f := k.Submit(dfk.Spec{App: "a", Run: r})
			c := dfk.NewSettled(-1, "c", 1, nil)
			return []*dfk.Future{f, c, f, f, c}, rel
		}, 14},
		{"chain", func(k *dfk.Kernel) ([]*dfk.Future, func()) {
			r, rel := gated(1)
			f := k.Submit(dfk.Spec{App: "a", Run: r})
			for range 20 {
				prev := f
				f = k.Submit(dfk.Spec{App: "inc", Deps: []*dfk.Future{prev}, Run: func(context.Context, dfk.Env) (any, error) {
					v, _ := prev.Outcome()
					return v.(int) + 1, nil
				}})
			}
			return []*dfk.Future{f}, rel
		}, 21},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := newKernel(t, 4, dfk.Config{})
			deps, release := tt.build(k)
			var ran atomic.Int32
			f := k.Submit(dfk.Spec{App: "sum", Deps: deps, Run: sumOf(t, deps, &ran)})
			release()
			v, err := outcome(t, f)
			if err != nil || v != tt.want {
				t.Errorf("got (%v, %v), want (%d, nil)", v, err, tt.want)
			}
			if n := ran.Load(); n != 1 {
				t.Errorf("ran %d times, want 1", n)
			}
		})
	}
}

func TestDependencyError(t *testing.T) {
	t.Parallel()
	// Each case returns the deps of one task and which of them the
	// DependencyError must name, in order.
	tests := []struct {
		name  string
		build func(k *dfk.Kernel) (deps, failed []*dfk.Future)
	}{
		{"one of three", func(k *dfk.Kernel) ([]*dfk.Future, []*dfk.Future) {
			ok1 := k.Submit(dfk.Spec{App: "ok", Run: returns(1)})
			bad := k.Submit(dfk.Spec{App: "bad", Run: raises(errBoom)})
			ok2 := dfk.NewSettled(-1, "c", 2, nil)
			return []*dfk.Future{ok1, bad, ok2}, []*dfk.Future{bad}
		}},
		{"duplicate failure named once", func(k *dfk.Kernel) ([]*dfk.Future, []*dfk.Future) {
			bad := k.Submit(dfk.Spec{App: "bad", Run: raises(errBoom)})
			return []*dfk.Future{bad, bad, bad}, []*dfk.Future{bad}
		}},
		{"argument order", func(k *dfk.Kernel) ([]*dfk.Future, []*dfk.Future) {
			ok := k.Submit(dfk.Spec{App: "ok", Run: returns(1)})
			b1 := k.Submit(dfk.Spec{App: "b1", Run: raises(errBoom)})
			b2 := k.Submit(dfk.Spec{App: "b2", Run: raises(errBoom)})
			return []*dfk.Future{ok, b2, b1, b2}, []*dfk.Future{b2, b1}
		}},
		{"settled failure", func(*dfk.Kernel) ([]*dfk.Future, []*dfk.Future) {
			bad := dfk.NewSettled(-1, "c", nil, errBoom)
			return []*dfk.Future{dfk.NewSettled(-2, "c", 1, nil), bad}, []*dfk.Future{bad}
		}},
		{"names the direct dependency", func(k *dfk.Kernel) ([]*dfk.Future, []*dfk.Future) {
			bad := k.Submit(dfk.Spec{App: "bad", Run: raises(errBoom)})
			mid := k.Submit(dfk.Spec{App: "mid", Deps: []*dfk.Future{bad}, Run: returns(1)})
			return []*dfk.Future{mid}, []*dfk.Future{mid}
		}},
		{"pending failure", func(k *dfk.Kernel) ([]*dfk.Future, []*dfk.Future) {
			run, release := gated(nil)
			gate := k.Submit(dfk.Spec{App: "gate", Run: run})
			bad := k.Submit(dfk.Spec{App: "bad", Deps: []*dfk.Future{gate}, Run: raises(errBoom)})
			release()
			return []*dfk.Future{gate, bad}, []*dfk.Future{bad}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := newKernel(t, 2, dfk.Config{})
			deps, wantFailed := tt.build(k)
			var ran atomic.Int32
			f := k.Submit(dfk.Spec{App: "dependent", Deps: deps, Run: func(context.Context, dfk.Env) (any, error) {
				ran.Add(1)
				return nil, nil
			}})
			_, err := outcome(t, f)
			if f.State() != dfk.DepFail {
				t.Errorf("state = %v, want dep_fail", f.State())
			}
			if ran.Load() != 0 {
				t.Error("Run was called")
			}
			var de *dfk.DependencyError
			if !errors.As(err, &de) {
				t.Fatalf("error = %v, want a *DependencyError", err)
			}
			if de.ID != f.ID() || de.App != "dependent" {
				t.Errorf("DependencyError names task %d (%s), want %d (dependent)", de.ID, de.App, f.ID())
			}
			if !slices.Equal(de.Failed, wantFailed) {
				t.Errorf("Failed = %v, want %v", ids(de.Failed), ids(wantFailed))
			}
			if !strings.Contains(err.Error(), "dependency failed") {
				t.Errorf("message %q does not say a dependency failed", err)
			}
		})
	}
}

func ids(fs []*dfk.Future) []int {
	out := make([]int, len(fs))
	for i, f := range fs {
		out[i] = f.ID()
	}
	return out
}

// flaky returns a Run that fails its first n tries and then returns "ok",
// recording every try it sees.
func flaky(n int, tries *[]int, mu *sync.Mutex) runFunc {
	return func(_ context.Context, env dfk.Env) (any, error) {
		mu.Lock()
		*tries = append(*tries, env.Try)
		mu.Unlock()
		if env.Try < n {
			return nil, errBoom
		}
		return "ok", nil
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		retries, fails int
		wantRuns       int
		wantOK         bool
	}{
		{0, 0, 1, true},
		{0, 1, 1, false},
		{1, 1, 2, true},
		{2, 1, 2, true},
		{2, 2, 3, true},
		{2, 3, 3, false},
		{3, 100, 4, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("retries=%d,fails=%d", tt.retries, tt.fails), func(t *testing.T) {
			t.Parallel()
			k := newKernel(t, 2, dfk.Config{Retries: tt.retries})
			var mu sync.Mutex
			var tries []int
			f := k.Submit(dfk.Spec{App: "flaky", Run: flaky(tt.fails, &tries, &mu)})
			v, err := outcome(t, f)
			if (err == nil) != tt.wantOK {
				t.Errorf("got (%v, %v), want ok=%v", v, err, tt.wantOK)
			}
			if !tt.wantOK && !errors.Is(err, errBoom) {
				t.Errorf("error = %v, want the last try's error", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if want := seq(tt.wantRuns); !slices.Equal(tries, want) {
				t.Errorf("tries %v, want %v", tries, want)
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestRetryHandler(t *testing.T) {
	t.Parallel()
	errHandler := errors.New("handler broke")
	tests := []struct {
		name       string
		retries    int
		fails      int
		cost       float64
		handlerErr error
		wantRuns   int
		wantErr    error
	}{
		{"half cost", 1, 100, 0.5, nil, 3, errBoom},
		{"free retries", 0, 5, 0, nil, 6, nil},
		{"cost above retries", 1, 100, 2, nil, 1, errBoom},
		{"exact budget", 2, 100, 1, nil, 3, errBoom},
		{"handler error", 5, 100, 0, errHandler, 1, errHandler},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var infoMu sync.Mutex
			var infos []dfk.TaskInfo
			handler := func(err error, info dfk.TaskInfo) (float64, error) {
				if !errors.Is(err, errBoom) {
					t.Errorf("handler saw %v, want the try's error", err)
				}
				infoMu.Lock()
				infos = append(infos, info)
				infoMu.Unlock()
				return tt.cost, tt.handlerErr
			}
			k := newKernel(t, 2, dfk.Config{Retries: tt.retries, RetryHandler: handler})
			var mu sync.Mutex
			var tries []int
			f := k.Submit(dfk.Spec{App: "flaky", Run: flaky(tt.fails, &tries, &mu)})
			_, err := outcome(t, f)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
			if tt.handlerErr != nil && (err == nil || !strings.Contains(err.Error(), "retry_handler")) {
				t.Errorf("error %q does not name the retry_handler", err)
			}
			mu.Lock()
			if len(tries) != tt.wantRuns {
				t.Errorf("ran %d times, want %d", len(tries), tt.wantRuns)
			}
			mu.Unlock()
			infoMu.Lock()
			defer infoMu.Unlock()
			for i, info := range infos {
				wantCost := float64(i) * tt.cost
				if info.ID != f.ID() || info.App != "flaky" || info.FailCount != i+1 || info.Try != i || info.FailCost != wantCost {
					t.Errorf("call %d: TaskInfo %+v, want id %d, fail count %d, try %d, cost %g",
						i, info, f.ID(), i+1, i, wantCost)
				}
			}
		})
	}
}

func TestWaitAllWaitsForTasksSubmittedMeanwhile(t *testing.T) {
	t.Parallel()
	k := newKernel(t, 2, dfk.Config{})
	const depth = 200
	var futures [depth]atomic.Pointer[dfk.Future]
	// Each task submits the next before it returns, so the graph grows
	// while WaitAll is already waiting.
	var next func(i int) runFunc
	next = func(i int) runFunc {
		return func(context.Context, dfk.Env) (any, error) {
			if i+1 < depth {
				futures[i+1].Store(k.Submit(dfk.Spec{App: "grow", Run: next(i + 1)}))
			}
			return i, nil
		}
	}
	futures[0].Store(k.Submit(dfk.Spec{App: "grow", Run: next(0)}))
	waitAll(t, k)
	for i := range futures {
		f := futures[i].Load()
		if f == nil || !f.Done() {
			t.Fatalf("WaitAll returned before task %d was submitted and done", i)
		}
	}
}

func TestCounts(t *testing.T) {
	t.Parallel()
	const slots = 2
	k := newKernel(t, slots, dfk.Config{})
	var started sync.WaitGroup
	started.Add(slots)
	gate := make(chan struct{})
	var blockers []*dfk.Future
	for range slots {
		blockers = append(blockers, k.Submit(dfk.Spec{App: "block", Run: func(context.Context, dfk.Env) (any, error) {
			started.Done()
			<-gate
			return 1, nil
		}}))
	}
	started.Wait()
	for range 5 {
		k.Submit(dfk.Spec{App: "queued", Run: returns(1)})
	}
	for range 3 {
		k.Submit(dfk.Spec{App: "waiting", Deps: blockers, Run: raises(errBoom)})
	}
	want := dfk.Counts{Submitted: 10, Waiting: 3, Queued: 5, Running: 2}
	if got := k.Counts(); got != want {
		t.Errorf("while blocked: Counts = %+v, want %+v", got, want)
	}
	close(gate)
	waitAll(t, k)
	want = dfk.Counts{Submitted: 10, Done: 7, Failed: 3}
	if got := k.Counts(); got != want {
		t.Errorf("after WaitAll: Counts = %+v, want %+v", got, want)
	}
	if got := len(k.Failures()); got != 3 {
		t.Errorf("Failures has %d tasks, want 3", got)
	}
}

// recorder is an Observer that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events map[int][]dfk.State
}

func (r *recorder) TaskEvent(e dfk.Event) {
	id, s := e.ID, e.State
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events[id] = append(r.events[id], s)
}

func TestObserverSeesEveryTransition(t *testing.T) {
	t.Parallel()
	rec := &recorder{events: map[int][]dfk.State{}}
	k := newKernel(t, 2, dfk.Config{Observer: rec, Retries: 1})
	var mu sync.Mutex
	var tries []int
	ok := k.Submit(dfk.Spec{App: "ok", Run: returns(1)})
	retried := k.Submit(dfk.Spec{App: "flaky", Run: flaky(1, &tries, &mu)})
	bad := k.Submit(dfk.Spec{App: "bad", Run: raises(errBoom)})
	dep := k.Submit(dfk.Spec{App: "dep", Deps: []*dfk.Future{bad}, Run: returns(1)})
	waitAll(t, k)
	want := map[int][]dfk.State{
		ok.ID():      {dfk.Pending, dfk.Launched, dfk.Running, dfk.ExecDone},
		retried.ID(): {dfk.Pending, dfk.Launched, dfk.Running, dfk.Launched, dfk.Running, dfk.ExecDone},
		bad.ID():     {dfk.Pending, dfk.Launched, dfk.Running, dfk.Launched, dfk.Running, dfk.Failed},
		dep.ID():     {dfk.Pending, dfk.DepFail},
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for id, w := range want {
		if got := rec.events[id]; !slices.Equal(got, w) {
			t.Errorf("task %d: events %v, want %v", id, got, w)
		}
	}
}

func TestExecutors(t *testing.T) {
	t.Parallel()
	if _, err := dfk.New(context.Background(), dfk.Config{}); err == nil {
		t.Error("New with no executors: want an error")
	}
	a, _ := threadpool.New("same", 1)
	b, _ := threadpool.New("same", 1)
	if _, err := dfk.New(context.Background(), dfk.Config{Executors: []dfk.Executor{a, b}}); err == nil {
		t.Error("New with two executors labelled alike: want an error")
	}

	other, err := threadpool.New("other", 1)
	if err != nil {
		t.Fatal(err)
	}
	k := newKernel(t, 1, dfk.Config{Executors: []dfk.Executor{other}})
	if got := k.Labels(); !slices.Equal(got, []string{"pool", "other"}) {
		t.Errorf("Labels = %v", got)
	}
	if !k.HasExecutor("other") || k.HasExecutor("nope") {
		t.Error("HasExecutor disagrees with Labels")
	}
	routed := k.Submit(dfk.Spec{App: "a", Executor: "other", Run: returns(1)})
	missing := k.Submit(dfk.Spec{App: "a", Executor: "nope", Run: returns(1)})
	if v, err := outcome(t, routed); err != nil || v != 1 {
		t.Errorf("task on executor other: (%v, %v)", v, err)
	}
	if _, err := outcome(t, missing); err == nil || !strings.Contains(err.Error(), `no executor labelled "nope"`) {
		t.Errorf("task on a missing executor: error %v", err)
	}
	waitAll(t, k)
	if c := k.Counts(); c.Queued != 0 || c.Running != 0 {
		t.Errorf("Counts after WaitAll = %+v", c)
	}
}

// TestLongFailingChain fails the head of a chain far longer than a small
// stack could hold one call per task for: the cascade of dependency
// failures, and observing its tail, must not recurse per task. Not
// parallel: the stack limit is process-wide.
func TestLongFailingChain(t *testing.T) {
	defer debug.SetMaxStack(debug.SetMaxStack(16 << 20))
	const length = 200_000
	k := newKernel(t, 2, dfk.Config{})
	run, release := gated(nil)
	head := k.Submit(dfk.Spec{App: "head", Run: func(ctx context.Context, env dfk.Env) (any, error) {
		if _, err := run(ctx, env); err != nil {
			return nil, err
		}
		return nil, errBoom
	}})
	f := head
	for range length {
		f = k.Submit(dfk.Spec{App: "link", Deps: []*dfk.Future{f}, Run: returns(1)})
	}
	release()
	waitAll(t, k)
	if f.State() != dfk.DepFail {
		t.Fatalf("tail: %v, want dep_fail", f.State())
	}
	f.Observe()
	if unseen := k.Unseen(); len(unseen) != 0 {
		t.Errorf("%d failures unseen after observing the tail, want 0", len(unseen))
	}
	if c := k.Counts(); c.Failed != length+1 {
		t.Errorf("Counts = %+v, want %d failed", c, length+1)
	}
}

func TestOnDone(t *testing.T) {
	t.Parallel()
	k := newKernel(t, 1, dfk.Config{})
	run, release := gated(1)
	f := k.Submit(dfk.Spec{App: "a", Run: run})
	calls := make(chan bool, 3) // whether f was done when the callback ran
	check := func() { calls <- f.Done() }
	f.OnDone(check) // pending: runs when f settles
	f.OnDone(check)
	release()
	for range 2 {
		if !<-calls {
			t.Error("a callback ran before the future was done")
		}
	}
	f.OnDone(check) // done: runs at once, on this goroutine
	select {
	case done := <-calls:
		if !done {
			t.Error("a callback ran before the future was done")
		}
	default:
		t.Error("OnDone on a done future did not run the callback at once")
	}
	if len(calls) != 0 {
		t.Error("a callback ran twice")
	}
}

// lostErr is what an executor reports when a try's block went away.
type lostErr struct{}

func (lostErr) Error() string      { return "block lost" }
func (lostErr) ResourceLost() bool { return true }

// TestResourceLostIsNotCharged checks that a try lost with its block is run
// again without spending the task's retries, and that a task that keeps
// losing its resources still fails after MaxResourceRetries.
func TestResourceLostIsNotCharged(t *testing.T) {
	t.Parallel()
	k := newKernel(t, 2, dfk.Config{Retries: 0, LostRetries: dfk.DefaultLostRetries})
	var mu sync.Mutex
	var tries []int
	lostOnce := k.Submit(dfk.Spec{App: "lost_once", Run: func(_ context.Context, env dfk.Env) (any, error) {
		mu.Lock()
		tries = append(tries, env.Try)
		mu.Unlock()
		if env.Try == 0 {
			return nil, lostErr{}
		}
		return "ok", nil
	}})
	always := k.Submit(dfk.Spec{App: "always_lost", Run: raises(lostErr{})})
	waitAll(t, k)
	if v, err := lostOnce.Outcome(); err != nil || v != "ok" {
		t.Errorf("lost once with retries=0: got (%v, %v), want (ok, nil)", v, err)
	}
	if fmt.Sprint(tries) != "[0 1]" {
		t.Errorf("tries = %v, want [0 1]", tries)
	}
	if _, err := always.Outcome(); err == nil {
		t.Errorf("a task lost on every try succeeded, want it failed after %d free retries", dfk.DefaultLostRetries)
	}
}
