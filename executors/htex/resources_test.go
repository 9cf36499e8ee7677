package htex

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
)

// kindCall is a task of the given kind with no arguments.
type kindCall struct{ kind Kind }

func (c kindCall) Encode() (*Task, error) { return &Task{Kind: c.kind, App: c.kind.String()}, nil }
func (c kindCall) Decode(res *Result) (any, error) {
	if res.Err != nil {
		return nil, res.Err
	}
	return nil, nil
}

// appRunner runs a bash task as a real bash app does, in a process group
// of its own with the slot's environment, and a python task in this
// process, busy for a while.
func appRunner(ctx context.Context, t *Task, env SlotEnv) *Result {
	if t.Kind == KindBash {
		cmd := exec.CommandContext(ctx, "/bin/bash", "-c", "for i in $(seq 20000); do :; done; sleep 0.5")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Env = append(os.Environ(), env.Environ()...)
		if err := cmd.Run(); err != nil {
			return &Result{Err: &RemoteError{Kind: "BashExitFailure", Message: err.Error()}}
		}
		return &Result{}
	}
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); {
	}
	return &Result{}
}

// samples collects what the interchange hands to its callbacks.
type samples struct {
	mu      sync.Mutex
	byTry   map[tryRef][]ResourceSample
	where   map[dfk.Where]bool
	workers []WorkerEvent
}

func (s *samples) resources(where dfk.Where, batch []ResourceSample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.where[where] = true
	for _, r := range batch {
		ref := tryRef{r.ID, r.Try}
		s.byTry[ref] = append(s.byTry[ref], r)
	}
}

func (s *samples) worker(e WorkerEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workers = append(s.workers, e)
}

// TestWorkerSamplesItsTries: with a resource interval, a worker samples a
// bash try's process group (found among its children by the slot's rank)
// and a python try as itself, and the interchange hands the samples over
// with where they come from; it reports the worker's node as it comes
// and goes.
func TestWorkerSamplesItsTries(t *testing.T) {
	t.Parallel()
	got := &samples{byTry: map[tryRef][]ResourceSample{}, where: map[dfk.Where]bool{}}
	cfg := fastConfig(t)
	cfg.ResourceInterval = 50 * time.Millisecond
	cfg.OnResources, cfg.OnWorker = got.resources, got.worker
	f := newFixture(t, cfg, 0)
	stopped := f.startWorker(t, f.workerConfig("b1", 2), runnerFunc(appRunner))
	bash := f.k.Submit(dfk.Spec{App: "sim", Kind: dfk.Bash, Payload: kindCall{KindBash}})
	python := f.k.Submit(dfk.Spec{App: "spin", Kind: dfk.Python, Payload: kindCall{KindPython}})
	for _, fut := range []*dfk.Future{bash, python} {
		if _, err := wait(t, fut); err != nil {
			t.Fatalf("task %d: %v", fut.ID(), err)
		}
	}
	f.e.DrainBlock("b1")
	if err := <-stopped; err != nil {
		t.Fatalf("worker: %v", err)
	}
	eventually(t, "the worker reported gone", func() bool {
		got.mu.Lock()
		defer got.mu.Unlock()
		return len(got.workers) == 2
	})

	got.mu.Lock()
	defer got.mu.Unlock()
	bs, ps := got.byTry[tryRef{bash.ID(), 0}], got.byTry[tryRef{python.ID(), 0}]
	if len(bs) == 0 || len(ps) == 0 {
		t.Fatalf("samples: %d of the bash try, %d of the python try; want some of each", len(bs), len(ps))
	}
	for _, s := range bs {
		if s.PID == os.Getpid() || s.PID <= 0 || s.Procs < 1 || s.RSS <= 0 || s.Status == "" || s.MemoryPercent <= 0 {
			t.Errorf("bash sample %+v: want its own process group's numbers", s)
		}
	}
	for _, s := range ps {
		if s.PID != os.Getpid() || s.Procs != 1 || s.RSS <= 0 {
			t.Errorf("python sample %+v: want the worker process's numbers (pid %d)", s, os.Getpid())
		}
	}
	busiest := -1.0
	for _, s := range ps {
		busiest = max(busiest, s.CPUPercent)
	}
	if len(ps) > 1 && busiest <= 0 {
		t.Errorf("no sample of a busy python try shows CPU use: %+v", ps)
	}
	want := dfk.Where{Block: "b1", Host: "node-b1", Worker: "1"}
	if len(got.where) != 1 || !got.where[want] {
		t.Errorf("samples came from %v, want %v", got.where, want)
	}
	w := got.workers
	if w[0].Where != want || !w[0].Active || w[0].Cores != runtime.NumCPU() || w[0].Memory == 0 || w[0].Slots != 2 {
		t.Errorf("registration = %+v, want the worker at %v active with this node's cores and memory", w[0], want)
	}
	if w[1].Where != want || w[1].Active {
		t.Errorf("leaving = %+v, want the same worker inactive", w[1])
	}
}

// Without a resource interval, workers send no samples.
func TestWorkerSamplesNothingUnasked(t *testing.T) {
	t.Parallel()
	got := &samples{byTry: map[tryRef][]ResourceSample{}, where: map[dfk.Where]bool{}}
	cfg := fastConfig(t)
	cfg.OnResources = got.resources
	f := newFixture(t, cfg, 0)
	f.startWorker(t, f.workerConfig("b1", 1), runnerFunc(appRunner))
	if _, err := wait(t, f.k.Submit(dfk.Spec{App: "sim", Kind: dfk.Bash, Payload: kindCall{KindBash}})); err != nil {
		t.Fatal(err)
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	if len(got.byTry) != 0 {
		t.Errorf("samples sent unasked: %v", got.byTry)
	}
}
