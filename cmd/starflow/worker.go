package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/executors/htex"
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
	level := hclog.Info
	if w.Debug {
		level = hclog.Debug
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "starflow", Level: level, Output: g.stderr, TimeFormat: "2006-01-02 15:04:05.000"})
	var accel []string
	if w.Accelerators != "" {
		accel = strings.Split(w.Accelerators, ",")
	}
	cfg := htex.WorkerConfig{
		Addrs: w.Addr, RunID: w.RunID, Secret: strings.TrimSpace(string(secret)),
		Fingerprint: w.Fingerprint, Unencrypted: w.Unencrypted, BlockID: w.BlockID,
		Slots: w.slots(len(accel)), Accelerators: accel, Logger: logger,
	}
	// Every bundle compiles against the names a script sees; argv is the
	// worker's, as Parsl's workers have their own sys.argv.
	predeclared := interp.Predeclared([]string{"starflow-worker"})
	load := func(data []byte, thread *starlark.Thread) (*starlark.Function, error) {
		return interp.LoadBundle(data, predeclared, thread)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = htex.RunWorker(ctx, cfg, builtins.NewWorkerRunner(load, g.stdout, g.stderr))
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("worker: %w", err)
	}
	return nil
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
