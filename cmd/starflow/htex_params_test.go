package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/starflow-hpc/starflow/executors/htex"
)

// firstCPU is a CPU this process may run on.
func firstCPU(t *testing.T) int {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	for c := 0; ; c++ {
		if set.IsSet(c) {
			return c
		}
	}
}

// TestHTEXParsedParams runs a block through launch_cmd, with both slots
// pinned to one CPU and the worker's log under worker_logdir_root: the
// bash apps see the launcher's environment and the pinning, and the log
// is where Parsl users look for it.
func TestHTEXParsedParams(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cpu := strconv.Itoa(firstCPU(t))
	writeFile(t, filepath.Join(dir, "params.star"), `
import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

parsl.load(Config(executors=[HighThroughputExecutor(
    max_workers_per_node=2, cpu_affinity="list:`+cpu+`:`+cpu+`",
    launch_cmd="env SF_LAUNCHED=block-{block_id}-{max_workers_per_node} {worker_cmd}",
    worker_logdir_root="logs", poll_period=200, worker_port_range=(20000, 60000),
    provider=LocalProvider(init_blocks=1, max_blocks=1))]))

@bash_app
def where(stdout=None):
    return "echo $SF_LAUNCHED $(grep Cpus_allowed_list /proc/self/status | cut -f2)"

@python_app
def add(a, b):
    return a + b

outs = [where(stdout="w%d.out" % i) for i in range(4)]
[o.result() for o in outs]
print(add(1, 2).result())
`)
	if out := runStarflow(t, dir, "params.star"); strings.TrimSpace(out) != "3" {
		t.Errorf("stdout %q, want 3", out)
	}
	for i := range 4 {
		raw, err := os.ReadFile(filepath.Join(dir, "w"+strconv.Itoa(i)+".out"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.TrimSpace(string(raw)), "block-0-2 "+cpu; got != want {
			t.Errorf("bash app %d saw %q, want %q (launch_cmd's environment, pinned to CPU %s)", i, got, want, cpu)
		}
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "logs", "*", "block-0", "worker.log"))
	if len(logs) != 1 {
		t.Fatalf("worker logs under worker_logdir_root: %v, want one", logs)
	}
	raw, _ := os.ReadFile(logs[0])
	if !strings.Contains(string(raw), "connected to the interchange") || !strings.Contains(string(raw), "slots pinned") {
		t.Errorf("%s does not say the worker connected and pinned its slots:\n%s", logs[0], raw)
	}
}

// affinityRunner reports the CPUs of the thread running the task.
type affinityRunner struct{ seen chan []int }

func (a affinityRunner) Run(_ context.Context, _ *htex.Task, _ htex.SlotEnv) *htex.Result {
	var set unix.CPUSet
	_ = unix.SchedGetaffinity(0, &set)
	var cpus []int
	for c := 0; c < len(set)*64; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	a.seen <- cpus
	return &htex.Result{}
}

func TestPinnedRunnerPinsPythonSlots(t *testing.T) {
	t.Parallel()
	cpu := firstCPU(t)
	p, err := slotCPUs("list:"+strconv.Itoa(cpu), 1)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan []int, 1)
	p.Runner = affinityRunner{seen}
	p.Run(context.Background(), &htex.Task{}, htex.SlotEnv{Rank: 0, Count: 1})
	if got := <-seen; len(got) != 1 || got[0] != cpu {
		t.Errorf("the task ran on a thread allowed CPUs %v, want [%d]", got, cpu)
	}
	if _, err := slotCPUs("block", 1<<12); err == nil || !strings.Contains(err.Error(), "worker slots a CPU each") {
		t.Errorf("more slots than CPUs: got %v", err)
	}
	if p, err := slotCPUs("none", 4); p != nil || err != nil {
		t.Errorf(`cpu_affinity "none" pins: %v, %v`, p, err)
	}
}

func TestWorkerLogLevelAndPlace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := &workerCmd{BlockID: "3", Logdir: dir, Debug: true}
	log, closeLog, err := w.logger(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !log.IsDebug() {
		t.Error("worker_debug=True: the worker does not log at debug level")
	}
	log.Debug("hello from the test")
	closeLog()
	raw, err := os.ReadFile(filepath.Join(dir, "block-3", "worker.log"))
	if err != nil || !strings.Contains(string(raw), "hello from the test") {
		t.Errorf("worker.log: %q, %v", raw, err)
	}
	w = &workerCmd{BlockID: "0"}
	if log, _, _ := w.logger(io.Discard); log.IsDebug() {
		t.Error("without --debug the worker logs at debug level")
	}
}
