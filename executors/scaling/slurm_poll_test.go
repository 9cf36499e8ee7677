package scaling_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/executors/scaling"
	"github.com/starflow-hpc/starflow/providers"
	"github.com/starflow-hpc/starflow/providers/slurm"
)

// slurmd answers sbatch with a new job id and squeue with every job asked
// for as running, and counts the calls by command.
type slurmd struct {
	mu     sync.Mutex
	nextID int
	calls  map[string]int
	squeue []string // the --jobs argument of each squeue
}

func (f *slurmd) Run(_ context.Context, name string, args []string, _ []byte) ([]byte, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[name]++
	switch name {
	case "sbatch":
		f.nextID++
		return fmt.Appendf(nil, "Submitted batch job %d\n", 1000+f.nextID), nil, nil
	case "squeue":
		var out strings.Builder
		for _, a := range args {
			if jobs, ok := strings.CutPrefix(a, "--jobs="); ok {
				f.squeue = append(f.squeue, jobs)
				for _, id := range strings.Split(jobs, ",") {
					fmt.Fprintf(&out, "%s R None\n", id)
				}
			}
		}
		return []byte(out.String()), nil, nil
	}
	return nil, nil, nil
}

func (f *slurmd) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

// ticked is a Target that says when each Snapshot is taken.
type ticked struct {
	*executor
	snapshots chan struct{}
}

func (t *ticked) Snapshot(ctx context.Context) (scaling.State, error) {
	st, err := t.executor.Snapshot(ctx)
	t.snapshots <- struct{}{}
	return st, err
}

// TestTwentyBlocksOneSqueuePerPoll drives the Runner over a SlurmProvider
// with 20 blocks and a storm of wakes (what a burst of submitted tasks
// does): squeue is called once per poll interval, for all 20 jobs at once,
// however many ticks happen in between.
func TestTwentyBlocksOneSqueuePerPoll(t *testing.T) {
	t.Parallel()
	fake := &slurmd{calls: map[string]int{}}
	cfg := slurm.Defaults()
	cfg.InitBlocks, cfg.MinBlocks, cfg.MaxBlocks = 20, 20, 20
	cfg.Runner = fake
	p, err := slurm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Unix(1_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	dir := t.TempDir()
	e := &ticked{snapshots: make(chan struct{}), executor: &executor{dir: dir, Blocks: &scaling.Blocks{
		Provider: p, Label: "htex", Dir: dir, Command: func(id int) string { return "worker" },
		MinPollInterval: time.Second, Now: clock,
	}}}
	wake := make(chan struct{}, 1)
	r := &scaling.Runner{Strategy: scaling.New(scaling.Config{Kind: scaling.Simple, Blocks: p.Settings(), MaxIdletime: time.Hour}),
		Target: e, Period: time.Hour, Wake: wake, Now: clock}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()

	tick := func() {
		t.Helper()
		wake <- struct{}{}
		<-e.snapshots
	}
	<-e.snapshots // the first tick: no block yet, init_blocks submitted
	tick()        // the runner takes a wake only once a tick is over
	if n := fake.count("sbatch"); n != 20 {
		t.Fatalf("%d sbatch calls for init_blocks=20", n)
	}
	e.setOutstanding(1000)
	for range 200 {
		tick()
	}
	if n := fake.count("squeue"); n != 1 {
		t.Errorf("%d squeue calls for 200 ticks within one poll interval, want 1", n)
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	for range 200 {
		tick()
	}
	if n := fake.count("squeue"); n != 2 {
		t.Errorf("%d squeue calls over two poll intervals, want 2", n)
	}
	for _, jobs := range fake.squeue {
		if n := len(strings.Split(jobs, ",")); n != 20 {
			t.Errorf("squeue --jobs=%s asks for %d jobs, want all 20", jobs, n)
		}
	}
	if n := fake.count("sbatch"); n != 20 {
		t.Errorf("%d sbatch calls in all, want the 20 of init_blocks", n)
	}
}

// gone reports every job as left squeue without accounting.
type gone struct{ statusCalls int }

func (g *gone) Submit(context.Context, providers.Block) (string, error) { return "7", nil }
func (g *gone) Status(_ context.Context, ids []string) (map[string]providers.Status, error) {
	g.statusCalls++
	out := map[string]providers.Status{}
	for _, id := range ids {
		out[id] = providers.Status{State: providers.Unknown, Gone: true, Message: "job left squeue"}
	}
	return out, nil
}
func (g *gone) Cancel(context.Context, []string) error { return nil }
func (g *gone) Settings() providers.Settings           { return providers.Settings{} }

// TestResolveGone: a job the scheduler forgot is judged once by Resolve,
// reported once in its final state, then forgotten.
func TestResolveGone(t *testing.T) {
	t.Parallel()
	var judged []int
	b := &scaling.Blocks{Provider: &gone{}, Command: func(int) string { return "w" }, Dir: t.TempDir(),
		Resolve: func(id int, st providers.Status) providers.Status {
			judged = append(judged, id)
			return providers.Status{State: providers.Lost, Message: st.Message + "; no goodbye"}
		}}
	ctx := context.Background()
	if _, err := b.ScaleOut(ctx, 1); err != nil {
		t.Fatal(err)
	}
	bs, err := b.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].Status.State != providers.Lost || bs[0].Status.Message != "job left squeue; no goodbye" {
		t.Errorf("first poll: %+v, want the block LOST as Resolve said", bs)
	}
	if bs, _ = b.Poll(ctx); len(bs) != 0 {
		t.Errorf("second poll: %+v, want the ended block forgotten", bs)
	}
	if len(judged) != 1 {
		t.Errorf("Resolve called for %v, want once for block 0", judged)
	}
}
