package builtins

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/executors/mpi"
)

// mpiPredeclared is what a script sees, with MPIExecutor bound even
// where the table of builtins does not have it yet.
func mpiPredeclared() starlark.StringDict {
	p := Predeclared(nil)
	p["MPIExecutor"] = starlark.NewBuiltin("MPIExecutor", newMPIExecutor)
	return p
}

// evalMPI evaluates one expression against mpiPredeclared.
func evalMPI(t *testing.T, expr string) (starlark.Value, error) {
	t.Helper()
	return starlark.EvalOptions(&syntax.FileOptions{}, &starlark.Thread{Name: "test"}, "test.star", expr, mpiPredeclared())
}

func TestMPIExecutorParameters(t *testing.T) {
	t.Parallel()
	v, err := evalMPI(t, `MPIExecutor(label="mpi", max_workers_per_block=2, mpi_launcher="srun",
		provider=SlurmProvider(partition="debug", nodes_per_block=3, launcher=SimpleLauncher()))`)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(*MPIExecutor)
	if m.Type() != "MPIExecutor" || m.label() != "mpi" || !m.mpiMode || m.mpiLauncher != "srun" || m.maxWorkers != 2 || m.prefetch() != 0 {
		t.Errorf("MPIExecutor = %s: mpi mode %v, launcher %q, max_workers_per_node %d, prefetch %d",
			m, m.mpiMode, m.mpiLauncher, m.maxWorkers, m.prefetch())
	}
	if n, ok := mpiBlock(m); !ok || n != 3 {
		t.Errorf("mpiBlock = %d, %v; want 3 nodes per block", n, ok)
	}
	for name, want := range map[string]string{"max_workers_per_block": "2", "mpi_launcher": `"srun"`, "enable_mpi_mode": "True", "label": `"mpi"`} {
		got, err := m.Attr(name)
		if err != nil || got == nil || got.String() != want {
			t.Errorf("%s = %v (%v), want %s", name, got, err, want)
		}
	}
	if got, _ := m.Attr("max_workers_per_node"); got != nil {
		t.Errorf("max_workers_per_node = %v: an MPIExecutor has max_workers_per_block instead", got)
	}
	if !strings.HasPrefix(m.String(), `MPIExecutor(label="mpi", max_workers_per_block=2, mpi_launcher="srun", provider=SlurmProvider(`) {
		t.Errorf("String() = %s", m)
	}
	if !sendsToWorkers(m) {
		t.Error("an MPIExecutor's tasks must travel to its workers")
	}

	// Parsl's defaults: label MPIExecutor, one task per block, mpiexec,
	// and a LocalProvider that starts one manager per block.
	v, err = evalMPI(t, `MPIExecutor()`)
	if err != nil {
		t.Fatal(err)
	}
	m = v.(*MPIExecutor)
	if m.label() != "MPIExecutor" || m.maxWorkersPerBlock != 1 || m.mpiLauncher != "mpiexec" || m.provider.Type() != "LocalProvider" {
		t.Errorf("MPIExecutor() = %s", m)
	}
	if n, ok := mpiBlock(m); !ok || n != 1 {
		t.Errorf("default mpiBlock = %d, %v", n, ok)
	}
	v, err = evalMPI(t, `MPIExecutor(prefetch_capacity=3, worker_debug=True)`)
	if err != nil || v.(*MPIExecutor).prefetch() != 3 || !v.(*MPIExecutor).workerDebug {
		t.Errorf("prefetch_capacity=3, worker_debug=True: %v, %v", v, err)
	}
}

func TestMPIExecutorErrors(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string]string{
		`MPIExecutor(mpi_launcher="mpirun")`:                           `MPIExecutor: for parameter mpi_launcher: got "mpirun", want "srun", "mpiexec" or "aprun"`,
		`MPIExecutor(max_workers_per_block=0)`:                         "MPIExecutor: for parameter max_workers_per_block: got 0, want an int >= 1",
		`MPIExecutor(max_workers_per_block=1.5)`:                       "MPIExecutor: for parameter max_workers_per_block: got 1.5, want an int >= 1",
		`MPIExecutor(cores_per_worker=2)`:                              `MPIExecutor: unexpected keyword argument "cores_per_worker"`,
		`MPIExecutor(provider=SlurmProvider())`:                        "MPIExecutor: for parameter provider: its launcher is SingleNodeLauncher(); an MPIExecutor needs launcher=SimpleLauncher()",
		`MPIExecutor(provider=LocalProvider(launcher=SrunLauncher()))`: "its launcher is SrunLauncher()",
		`MPIExecutor(provider="slurm")`:                                "MPIExecutor: for parameter provider: got string, want a provider",
		`MPIExecutor(heartbeat_period=0)`:                              "MPIExecutor: for parameter heartbeat_period: got 0",
	} {
		_, err := evalMPI(t, expr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", expr, err, want)
		}
	}
}

// TestResourceSpecAtSubmit: a call whose resources an executor cannot
// give fails at the call's line, naming the parameter and the accepted
// form, before any task exists.
func TestResourceSpecAtSubmit(t *testing.T) {
	t.Parallel()
	s := NewSession(t.Context(), Options{RunDirRoot: filepath.Join(t.TempDir(), "runinfo"), Workers: 2,
		Stdout: io.Discard, Stderr: io.Discard, Logger: hclog.NewNullLogger()})
	thread := &starlark.Thread{Name: "main"}
	s.Attach(thread)
	src := `
def mpi(parsl_resource_specification={}):
    return "$PARSL_MPI_PREFIX ./ranks"
run = bash_app(mpi, executors=["mpi"])
def plain(parsl_resource_specification={}):
    return "true"
local = bash_app(plain, executors=["threads"])
parsl.LOAD(Config(strategy=None, executors=[
    MPIExecutor(label="mpi", max_workers_per_block=2,
                provider=LocalProvider(nodes_per_block=2, init_blocks=0, min_blocks=0, launcher=SimpleLauncher())),
    ThreadPoolExecutor(label="threads"),
]))
`
	env := mpiPredeclared()
	globals, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "mpi.star", src, env)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range globals {
		env[k] = v
	}
	defer func() {
		if _, err := s.Finish(); err != nil {
			t.Errorf("Finish: %v", err)
		}
	}()
	for call, want := range map[string]string{
		`run(parsl_resource_specification={"num_nodes": 2, "ranks_per_node": 2, "num_ranks": 5})`: "mpi: parsl_resource_specification: num_ranks is 5 but num_nodes × ranks_per_node is 2 × 2 = 4; give num_ranks = num_nodes × ranks_per_node",
		`run(parsl_resource_specification={"num_nodes": 3})`:                                      `mpi: parsl_resource_specification: num_nodes is 3 but a block has 2 nodes (the provider's nodes_per_block); an MPI task runs within one block, so ask for at most 2 nodes or raise nodes_per_block (executor "mpi")`,
		`run()`: "mpi: parsl_resource_specification: an MPI task needs num_nodes, ranks_per_node or num_ranks",
		`run(parsl_resource_specification={"num_nodes": 1, "cores": 2})`: `unknown key "cores"`,
		`run(parsl_resource_specification=[2, 2])`:                       "parsl_resource_specification: got list, want a dict",
		`run(parsl_resource_specification={"num_nodes": "2"})`:           `for num_nodes: got string "2", want an int >= 1`,
		`local(parsl_resource_specification={"num_nodes": 2})`:           `plain: parsl_resource_specification: num_nodes needs an MPI executor (MPIExecutor, or HighThroughputExecutor with enable_mpi_mode=True); executor "threads" is a ThreadPoolExecutor`,
	} {
		_, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "call.star", call, env)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", call, err, want)
		}
	}
	// Keys other than MPI placement are no business of a thread pool.
	if _, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "ok.star",
		`local(parsl_resource_specification={"priority": 1}).result()`, env); err != nil {
		t.Errorf("priority on a thread pool: %v", err)
	}
}

func TestResourceSpecTravels(t *testing.T) {
	t.Parallel()
	raw, err := evalMPI(t, `{"num_nodes": 2, "num_ranks": 4, "launcher_options": "--mpi=pmix"}`)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := evalMPI(t, `MPIExecutor(provider=LocalProvider(nodes_per_block=2, launcher=SimpleLauncher()))`)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := resourceSpec(raw, ev.(executorValue))
	if err != nil {
		t.Fatal(err)
	}
	back, ok, err := mpi.SpecFromEnv(spec.Env())
	if !ok || err != nil || back != (mpi.Spec{Nodes: 2, RanksPerNode: 2, Ranks: 4, LauncherOptions: "--mpi=pmix"}) {
		t.Errorf("the worker reads back %+v, %v, %v", back, ok, err)
	}
}
