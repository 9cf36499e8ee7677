package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.starlark.net/starlark"
	"golang.org/x/sys/unix"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/executors/htex"
	"github.com/starflow-hpc/starflow/executors/mpi"
	"github.com/starflow-hpc/starflow/interp"
)

// workerCmd is `starflow worker`: what a HighThroughputExecutor's blocks
// run. Users do not start it by hand; the provider's command line carries
// everything it needs.
type workerCmd struct {
	Addr              []string `required:"" sep:"," help:"Interchange address host:port (repeatable, tried in order)." placeholder:"HOST:PORT"`
	RunID             string   `required:"" help:"The run's id; the interchange refuses workers of other runs."`
	SecretFile        string   `required:"" help:"File holding the run's secret (hex)." placeholder:"FILE"`
	Fingerprint       string   `help:"SHA-256 of the interchange's certificate (hex), pinned."`
	Unencrypted       bool     `help:"Plain TCP (encrypted=False), for debugging."`
	BlockID           string   `default:"0" help:"Block this worker belongs to."`
	MaxWorkersPerNode int      `help:"Tasks run at once (0: one per core / cores-per-worker)."`
	CoresPerWorker    float64  `default:"1" help:"Cores each task needs."`
	MemPerWorker      float64  `help:"GB of memory each task needs (0: no bound)."`
	Accelerators      string   `help:"Comma-separated accelerator ids shared among the slots."`
	Chdir             string   `help:"Working directory for apps (the run's)." placeholder:"DIR"`
	Debug             bool     `help:"Log at debug level (worker_debug=True)."`
	CPUAffinity       string   `default:"none" help:"cpu_affinity: pin each slot to CPUs as Parsl does (none, block, block-reverse, alternating, list:...)."`
	Logdir            string   `help:"Write the log to DIR/block-<id>/worker.log instead of stderr (worker_logdir_root)." placeholder:"DIR"`
	MPILauncher       string   `name:"mpi-launcher" help:"MPI mode (enable_mpi_mode): be the block's one manager and start each task's ranks on whole nodes of it with this launcher (srun, mpiexec or aprun)." placeholder:"LAUNCHER"`
}

func (w *workerCmd) Run(g *globals) error {
	secret, err := os.ReadFile(w.SecretFile)
	if err != nil {
		return fmt.Errorf("worker: read the run secret: %w", err)
	}
	if w.Chdir != "" {
		if err := os.Chdir(w.Chdir); err != nil {
			return fmt.Errorf("worker: %w", err)
		}
	}
	logger, closeLog, err := w.logger(g.stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	var accel []string
	if w.Accelerators != "" {
		accel = strings.Split(w.Accelerators, ",")
	}
	cfg := htex.WorkerConfig{
		Addrs: w.Addr, RunID: w.RunID, Secret: strings.TrimSpace(string(secret)),
		Fingerprint: w.Fingerprint, Unencrypted: w.Unencrypted, BlockID: w.BlockID,
		Slots: w.slots(len(accel)), Accelerators: accel, Logger: logger,
	}
	if w.MPILauncher != "" {
		if cfg.MPI, err = mpiConfig(w.MPILauncher, logger); err != nil {
			return fmt.Errorf("worker: %w", err)
		}
	}
	pins, err := slotCPUs(w.CPUAffinity, cfg.Slots)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	// Every bundle compiles against the names a script sees; argv is the
	// worker's, as Parsl's workers have their own sys.argv.
	predeclared := interp.Predeclared([]string{"starflow-worker"})
	load := func(data []byte, thread *starlark.Thread) (*starlark.Function, error) {
		return interp.LoadBundle(data, predeclared, thread)
	}
	ctx, stop := stopOnSignal()
	defer stop()
	var runner htex.Runner = builtins.NewWorkerRunner(load, g.stdout, g.stderr)
	if pins != nil {
		logger.Info("slots pinned", "cpu_affinity", w.CPUAffinity, "cpus", fmt.Sprint(pins.cpus))
		pins.Runner, runner = runner, pins
	}
	err = htex.RunWorker(ctx, cfg, runner)
	if err != nil && !errors.Is(err, context.Canceled) {
		return err // RunWorker's errors already say "worker: ..."
	}
	return nil
}

// stopOnSignal is the worker's context: SIGTERM (the batch system ending
// the block: scancel, walltime, preemption) or SIGINT cancels it with an
// *htex.StopSignal, so the tries the worker gives up are reported lost
// with the block, and retried for free, rather than failed by their apps.
// Slurm signals every process of the job at once, bash apps included; the
// cause is set before any task's context ends, so no task is killed by
// the worker before it is known to be stopping.
func stopOnSignal() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sigs:
			cancel(&htex.StopSignal{Signal: s})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		cancel(nil)
	}
}

// slots is Parsl's worker count: max_workers_per_node bounded by the
// node's cores and memory and by the accelerators.
func (w *workerCmd) slots(accelerators int) int {
	n := int(float64(runtime.NumCPU()) / max(w.CoresPerWorker, 0.001))
	if w.MaxWorkersPerNode > 0 && w.MaxWorkersPerNode < n {
		n = w.MaxWorkersPerNode
	}
	if w.MemPerWorker > 0 {
		var si syscall.Sysinfo_t
		if syscall.Sysinfo(&si) == nil {
			gb := float64(si.Totalram) * float64(si.Unit) / (1 << 30)
			n = min(n, int(gb/w.MemPerWorker))
		}
	}
	if accelerators > 0 {
		n = min(n, accelerators)
	}
	return max(n, 1)
}

// logger logs to stderr (the block's .stderr file in the run folder), or
// with --logdir to DIR/block-<id>/worker.log; the nodes of a block share
// that file, so it is appended to.
func (w *workerCmd) logger(stderr io.Writer) (hclog.Logger, func(), error) {
	level := hclog.Info
	if w.Debug {
		level = hclog.Debug
	}
	out, closeLog := stderr, func() {}
	if w.Logdir != "" {
		dir := filepath.Join(w.Logdir, "block-"+w.BlockID)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, fmt.Errorf("worker: log folder: %w", err)
		}
		f, err := os.OpenFile(filepath.Join(dir, "worker.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("worker: %w", err)
		}
		out, closeLog = f, func() { _ = f.Close() }
	}
	return hclog.New(&hclog.LoggerOptions{Name: "starflow", Level: level, Output: out, TimeFormat: "2006-01-02 15:04:05.000"}), closeLog, nil
}

// slotCPUs is a runner-to-be pinning each slot to its CPUs under
// cpu_affinity, chosen among the CPUs this process may use (a batch system
// may have given it fewer than the node has); nil when nothing is pinned.
func slotCPUs(affinity string, slots int) (*pinnedRunner, error) {
	a, err := builtins.ParseCPUAffinity(affinity)
	if err != nil || !a.Pins() {
		return nil, err
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("cpu_affinity: read this process's CPUs: %w", err)
	}
	var avail []int
	for c := 0; c < len(set)*64; c++ {
		if set.IsSet(c) {
			avail = append(avail, c)
		}
	}
	p := &pinnedRunner{cpus: make([][]int, slots), all: set}
	for rank := range p.cpus {
		if p.cpus[rank], err = a.CPUs(rank, slots, avail); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// pinnedRunner runs each task on an OS thread pinned to its slot's CPUs.
// A bash app's process inherits the affinity of the thread that starts
// it, which is this one: Go forks from the calling goroutine's thread.
type pinnedRunner struct {
	htex.Runner
	cpus [][]int
	all  unix.CPUSet // the process's own affinity, restored after each task
}

func (p *pinnedRunner) Run(ctx context.Context, t *htex.Task, env htex.SlotEnv) *htex.Result {
	cpus := p.cpus[env.Rank%len(p.cpus)]
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	runtime.LockOSThread()
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		runtime.UnlockOSThread()
		return &htex.Result{Err: &htex.RemoteError{Kind: "WorkerError",
			Message: fmt.Sprintf("cpu_affinity: pin slot %d to CPUs %v: %v", env.Rank, cpus, err)}}
	}
	res := p.Runner.Run(ctx, t, env)
	// A thread that cannot be given back its CPUs stays locked to this
	// slot's goroutine, so no other goroutine runs on a slot's CPUs; Go
	// ends the thread when the goroutine ends.
	if unix.SchedSetaffinity(0, &p.all) == nil {
		runtime.UnlockOSThread()
	}
	return res
}

// mpiConfig is MPI mode's view of the block: the nodes of the batch job
// this worker runs in, and which MPI library mpiexec belongs to, since
// Open MPI's mpiexec takes other options than MPICH's (every task gets
// an mpiexec prefix, whatever mpi_launcher says).
func mpiConfig(launcher string, log hclog.Logger) (*htex.MPIConfig, error) {
	l, err := mpi.ParseLauncher(launcher)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	nodes, source, err := mpi.DiscoverNodes(mpi.Host{Getenv: os.Getenv, ReadFile: os.ReadFile, Hostname: host})
	if err != nil {
		return nil, fmt.Errorf("MPI mode: find this block's nodes: %w", err)
	}
	flavor := mpi.Hydra
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A missing mpiexec is not an error here: a site using srun may have
	// none, and then the Hydra form, Parsl's, is as good as any.
	probe := exec.CommandContext(ctx, "mpiexec", "--version")
	probe.WaitDelay = time.Second // a daemon it left holding the pipe must not hold the worker
	if out, err := probe.CombinedOutput(); err == nil {
		flavor = mpi.FlavorOf(string(out))
	}
	log.Info("MPI mode", "launcher", l, "nodes", strings.Join(nodes, ","), "node_source", source, "mpiexec", flavor.String())
	return &htex.MPIConfig{Launcher: l, Flavor: flavor, Nodes: nodes}, nil
}
