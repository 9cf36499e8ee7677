package htex

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/executors/mpi"
)

// mpiCall is a task that asked for resources; they travel in its
// environment, as builtins sends them.
type mpiCall struct {
	id   int
	spec *mpi.Spec // nil: none given
}

func (c *mpiCall) Encode() (*Task, error) {
	t := &Task{Kind: KindBash, App: "mpi", Func: "mpi", Args: []byte(fmt.Sprint(c.id))}
	if c.spec != nil {
		t.Env = c.spec.Env()
	}
	return t, nil
}

func (c *mpiCall) Decode(res *Result) (any, error) {
	if res.Err != nil {
		return nil, res.Err
	}
	return string(res.Value), nil
}

func mpiWorker(f *fixture, slots int, launcher mpi.Launcher, nodes ...string) WorkerConfig {
	cfg := f.workerConfig("0", slots)
	cfg.MPI = &MPIConfig{Launcher: launcher, Flavor: mpi.OpenMPI, Nodes: nodes}
	return cfg
}

func envValue(env []string, key string) string {
	for _, kv := range slices.Backward(env) {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// TestMPIPlacementEnv: a task sees its nodes, its counts and the prefix
// of the executor's launcher, for those nodes.
func TestMPIPlacementEnv(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	got := make(chan []string, 1)
	f.startWorker(t, mpiWorker(f, 2, mpi.Srun, "n1", "n2", "n3"), runnerFunc(func(_ context.Context, task *Task, env SlotEnv) *Result {
		got <- append(env.Environ(), task.Env...)
		return &Result{}
	}))
	spec := mpi.Spec{Nodes: 2, RanksPerNode: 2, Ranks: 4, LauncherOptions: "--mpi=pmix"}
	if _, err := wait(t, f.k.Submit(dfk.Spec{App: "mpi", Kind: dfk.Bash, Payload: &mpiCall{spec: &spec}})); err != nil {
		t.Fatal(err)
	}
	env := <-got
	for key, want := range map[string]string{
		"PARSL_MPI_PREFIX":     "srun --ntasks 4 --ntasks-per-node 2 --nodelist n1,n2 --nodes 2 --mpi=pmix",
		"PARSL_MPIEXEC_PREFIX": "mpiexec -n 4 --map-by ppr:2:node --oversubscribe --host n1:2,n2:2 --mpi=pmix",
		"PARSL_MPI_NODELIST":   "n1,n2",
		"PARSL_NUM_NODES":      "2",
		"PARSL_RANKS_PER_NODE": "2",
		"PARSL_NUM_RANKS":      "4",
		"PARSL_WORKER_RANK":    "0",
	} {
		if v := envValue(env, key); v != want {
			t.Errorf("%s = %q, want %q", key, v, want)
		}
	}
}

// TestMPIPacking runs tasks of mixed sizes on a 3-node block with 2
// slots: no node ever runs two tasks, no more tasks run than slots, and
// every task runs.
func TestMPIPacking(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	var (
		mu       sync.Mutex
		holder   = map[string]int{} // node: task holding it
		running  int
		problems []string
	)
	r := runnerFunc(func(_ context.Context, task *Task, env SlotEnv) *Result {
		id := string(task.Args)
		nodes := strings.Split(envValue(env.Environ(), "PARSL_MPI_NODELIST"), ",")
		mu.Lock()
		running++
		if running > 2 {
			problems = append(problems, fmt.Sprintf("%d tasks at once on 2 slots", running))
		}
		for _, n := range nodes {
			if other, busy := holder[n]; busy {
				problems = append(problems, fmt.Sprintf("task %s placed on %s, held by task %d", id, n, other))
			}
			holder[n] = int(task.ID)
		}
		mu.Unlock()
		// Hold the nodes a moment, so that tasks overlap and contend.
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
		mu.Lock()
		running--
		for _, n := range nodes {
			delete(holder, n)
		}
		mu.Unlock()
		return &Result{Value: []byte(strings.Join(nodes, ","))}
	})
	f.startWorker(t, mpiWorker(f, 2, mpi.Mpiexec, "n1", "n2", "n3"), r)
	var futs []*dfk.Future
	var wantNodes []int
	for i := range 40 {
		n := 1 + i%3
		wantNodes = append(wantNodes, n)
		spec := mpi.Spec{Nodes: n, RanksPerNode: 1, Ranks: n}
		futs = append(futs, f.k.Submit(dfk.Spec{App: "mpi", Kind: dfk.Bash, Payload: &mpiCall{id: i, spec: &spec}}))
	}
	for i, fut := range futs {
		v, err := wait(t, fut)
		if err != nil {
			t.Fatalf("task %d: %v", i, err)
		}
		if got := len(strings.Split(v.(string), ",")); got != wantNodes[i] {
			t.Errorf("task %d ran on %v, want %d nodes", i, v, wantNodes[i])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
}

// TestMPIRefusesWhatTheBlockCannotRun: a task without resources, or
// larger than the block, fails alone with the reason; the worker keeps
// serving.
func TestMPIRefusesWhatTheBlockCannotRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	f.startWorker(t, mpiWorker(f, 1, mpi.Srun, "vm"), runnerFunc(func(context.Context, *Task, SlotEnv) *Result {
		return &Result{Value: []byte("ran")}
	}))
	big := mpi.Spec{Nodes: 2, RanksPerNode: 1, Ranks: 2}
	one := mpi.Spec{Nodes: 1, RanksPerNode: 2, Ranks: 2}
	for _, tc := range []struct {
		spec *mpi.Spec
		want string
	}{
		{nil, "MissingResourceSpecification: parsl_resource_specification: this worker is in MPI mode and the task gave none"},
		{&big, "InvalidResourceSpecification: parsl_resource_specification: num_nodes is 2 but this block has 1 node(s): vm"},
		{&one, ""},
	} {
		v, err := wait(t, f.k.Submit(dfk.Spec{App: "mpi", Kind: dfk.Bash, Payload: &mpiCall{spec: tc.spec}}))
		switch {
		case tc.want == "" && (err != nil || v != "ran"):
			t.Errorf("spec %+v: %v, %v; want it to run", tc.spec, v, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("spec %+v: error %v, want %q", tc.spec, err, tc.want)
		}
	}
}

// TestMPIDrainRunsQueued: a drained worker still runs the tasks it has
// queued, then leaves.
func TestMPIDrainRunsQueued(t *testing.T) {
	t.Parallel()
	cfg := fastConfig(t)
	cfg.PrefetchCapacity = 2 // so the one-slot worker holds all three tasks
	f := newFixture(t, cfg, 0)
	release := make(chan struct{})
	started := make(chan struct{}, 4)
	done := f.startWorker(t, mpiWorker(f, 1, mpi.Srun, "n1"), runnerFunc(func(ctx context.Context, task *Task, _ SlotEnv) *Result {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return &Result{Value: task.Args}
	}))
	spec := mpi.Spec{Nodes: 1, RanksPerNode: 1, Ranks: 1}
	var futs []*dfk.Future
	for i := range 3 {
		futs = append(futs, f.k.Submit(dfk.Spec{App: "mpi", Kind: dfk.Bash, Payload: &mpiCall{id: i, spec: &spec}}))
	}
	<-started
	eventually(t, "the worker holds all three tasks", func() bool {
		ms := f.e.Managers()
		return len(ms) == 1 && ms[0].InFlight == 3
	})
	f.e.DrainBlock("0")
	close(release)
	for i, fut := range futs {
		if v, err := wait(t, fut); err != nil || v != fmt.Sprint(i) {
			t.Errorf("task %d: %v, %v", i, v, err)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("drained worker: %v", err)
	}
}
