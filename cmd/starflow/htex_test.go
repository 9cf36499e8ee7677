package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dagScript runs python apps (a DAG), bash apps and a join app on the
// executor named by argv[1], so that the HTEX run can be compared with the
// thread pool's.
const dagScript = `
import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
from parsl.providers import LocalProvider

if argv[1] == "htex":
    ex = HighThroughputExecutor(max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1))
else:
    ex = ThreadPoolExecutor(max_threads=2)
parsl.load(Config(executors=[ex]))

SCALE = 3

def helper(x):
    return x * SCALE

@python_app
def leaf(i):
    return {"i": i, "v": helper(i), "s": "x" * i}

@python_app
def combine(a, b, extra=None):
    return [a["v"] + b["v"], extra]

@python_app
def fails(x):
    raise ValueError("no good: %d" % x)

@bash_app
def shout(word, stdout=None, stderr=None):
    return "echo $WORD-%s rank=$PARSL_WORKER_RANK >/dev/null; echo %s" % (word, word)

@bash_app
def exits(code):
    return "exit %d" % code

@join_app
def tree(n):
    return [combine(leaf(i), leaf(i + 1), extra=i) for i in range(n)]

leaves = [leaf(i) for i in range(6)]
pairs = [combine(leaves[i], leaves[i + 1], extra=(i, "t")) for i in range(5)]
print([p.result() for p in pairs])
print(tree(4).result())
print(shout("hi", stdout="shout.out").result(), open("shout.out").read().strip())
try:
    fails(7).result()
except ValueError as e:
    print("ValueError:", str(e), type(e))
try:
    exits(3).result()
except BashExitFailure as e:
    print("BashExitFailure:", e.exitcode)
print(fails(1).exception().__class__)
`

// runStarflow runs `starflow run` in dir and returns its stdout; it fails
// the test unless starflow exits 0.
func runStarflow(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(starflowBinary(t), append([]string{"run", "--no-progress", "--log-level", "debug"}, args...)...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "runinfo", "000", "starflow.log"))
		t.Fatalf("starflow run %v: %v\nstdout:\n%s\nstderr:\n%s\nlog:\n%s", args, err, out.String(), errb.String(), log)
	}
	return out.String()
}

// workersIn lists the pids of `starflow worker` processes serving runs in
// dir (their --chdir), read from /proc.
func workersIn(t *testing.T, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(raw), "\x00")
		if len(args) > 1 && args[1] == "worker" && strings.Contains(string(raw), "\x00"+dir+"\x00") {
			pids = append(pids, pid)
		}
	}
	return pids
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHTEXMatchesThreadPool(t *testing.T) {
	t.Parallel()
	results := map[string]string{}
	for _, ex := range []string{"threads", "htex"} {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "dag.star"), dagScript)
		results[ex] = runStarflow(t, dir, "dag.star", ex)
		if pids := workersIn(t, dir); len(pids) > 0 {
			t.Errorf("%s: worker processes left after the run: %v", ex, pids)
		}
		if ex == "htex" {
			if _, err := os.Stat(filepath.Join(dir, "runinfo", "000", "submit_scripts", "HighThroughputExecutor.block-0.sh")); err != nil {
				t.Errorf("the block's script is not in the run folder: %v", err)
			}
		}
	}
	if results["htex"] != results["threads"] {
		t.Errorf("HTEX printed\n%s\nthe thread pool printed\n%s", results["htex"], results["threads"])
	}
	if !strings.Contains(results["htex"], "ValueError: no good: 7 ValueError") || !strings.Contains(results["htex"], "BashExitFailure: 3") {
		t.Errorf("remote errors lost their kind:\n%s", results["htex"])
	}
}

// killScript's first try of slow() records its worker's pid and its own,
// then waits for the test to SIGKILL the worker; the retry (on a
// replacement block) finds the marker and succeeds. retries=0: losing a
// worker must not spend a retry.
const killScript = `
import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

parsl.load(Config(retries=0, strategy_period=0.2, executors=[HighThroughputExecutor(
    max_workers_per_node=2, heartbeat_period=1, heartbeat_threshold=3,
    provider=LocalProvider(init_blocks=1, min_blocks=1, max_blocks=1))]))

@bash_app
def slow():
    return "if [ -e pids ]; then echo again; else echo $PPID $$ > pids.tmp && mv pids.tmp pids && exec sleep 600; fi"

@python_app
def double(x):
    return 2 * x

f = slow()
print(f.result(), [double(i).result() for i in range(3)])
`

func TestHTEXWorkerKilledMidTask(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "kill.star"), killScript)
	killed := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(hangLimit * 3)
		for time.Now().Before(deadline) {
			raw, err := os.ReadFile(filepath.Join(dir, "pids"))
			if err != nil {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			f := strings.Fields(string(raw))
			worker, _ := strconv.Atoi(f[0])
			app, _ := strconv.Atoi(f[1])
			err = syscall.Kill(worker, syscall.SIGKILL)
			// The app's own process group outlives its worker, as it
			// would in Parsl; end it so the test leaves nothing behind.
			_ = syscall.Kill(-app, syscall.SIGKILL)
			killed <- err
			return
		}
		killed <- os.ErrDeadlineExceeded
	}()
	out := runStarflow(t, dir, "kill.star")
	if err := <-killed; err != nil {
		t.Fatalf("could not kill the worker: %v", err)
	}
	if got, want := strings.TrimSpace(out), "0 [0, 2, 4]"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	log, err := os.ReadFile(filepath.Join(dir, "runinfo", "000", "starflow.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(log, []byte("block-1")) {
		t.Errorf("no replacement block was started; log:\n%s", log)
	}
	if pids := workersIn(t, dir); len(pids) > 0 {
		t.Errorf("worker processes left after the run: %v", pids)
	}
}
