package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bgRun is `starflow run` left running while the test acts on it. Its
// stdout and stderr are files, not pipes: workers and bash apps inherit
// nothing from the test, and Wait reports starflow's own exit.
type bgRun struct {
	dir     string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// startBG writes script into a fresh folder as s.star and starts
// `starflow run` on it; the test's cleanup kills it if it is still there.
func startBG(t *testing.T, script string, args ...string) *bgRun {
	t.Helper()
	r := &bgRun{dir: t.TempDir()}
	writeFile(t, filepath.Join(r.dir, "s.star"), script)
	r.start(t, append([]string{"run", "--no-progress", "--log-level", "debug", "s.star"}, args...)...)
	t.Cleanup(func() {
		// Whatever a failed test left behind must not outlive it.
		for _, pid := range append(workersIn(t, r.dir), blockProcs(t, r.dir)...) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return r
}

// start runs `starflow ARGS...` in r.dir, its stdout and stderr going to
// files there, and arranges for the test's cleanup to kill it if it is
// still running.
func (r *bgRun) start(t *testing.T, args ...string) {
	t.Helper()
	r.exited = make(chan struct{})
	r.cmd = exec.Command(starflowBinary(t), args...)
	r.cmd.Dir = r.dir
	r.cmd.Stdout = createFile(t, filepath.Join(r.dir, "stdout"))
	r.cmd.Stderr = createFile(t, filepath.Join(r.dir, "stderr"))
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.waitErr = r.cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-r.exited:
		default:
			_ = r.cmd.Process.Kill()
			<-r.exited
		}
	})
}

func (r *bgRun) path(name string) string { return filepath.Join(r.dir, name) }

// log is the run's starflow.log so far ("" before it exists).
func (r *bgRun) log() string {
	b, _ := os.ReadFile(r.path("runinfo/000/starflow.log"))
	return string(b)
}

func (r *bgRun) describe(t *testing.T) string {
	// The run folder's files, to tell a slow run from a misplaced log.
	var files []string
	_ = filepath.WalkDir(r.path("runinfo"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				files = append(files, fmt.Sprintf("%s (%d bytes)", p, fi.Size()))
			}
		}
		return nil
	})
	return "stdout:\n" + readFile(t, r.path("stdout")) + "\nstderr:\n" + readFile(t, r.path("stderr")) +
		"\nfiles:\n" + strings.Join(files, "\n") + "\nlog:\n" + r.log()
}

// until polls cond until it holds; it fails the test if starflow exits
// first or if limit passes (a "did not hang" bound, not a speed check).
func (r *bgRun) until(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		select {
		case <-r.exited:
			if cond() {
				return
			}
			t.Fatalf("starflow exited (%v) before %s\n%s", r.waitErr, what, r.describe(t))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v\n%s", what, limit, r.describe(t))
		}
	}
}

// exitCode waits for starflow to exit and returns its status.
func (r *bgRun) exitCode(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(limit):
		t.Fatalf("starflow still running after %v\n%s", limit, r.describe(t))
	}
	if r.waitErr == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(r.waitErr, &ee) {
		t.Fatalf("starflow: %v, want an exit status", r.waitErr)
	}
	return ee.ExitCode()
}

// blockProcs lists the pids of processes running one of the block scripts
// of runs in dir (bash given the script's path), read from /proc.
func blockProcs(t *testing.T, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	scripts := filepath.Join(dir, "runinfo") + "/"
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, a := range strings.Split(string(raw), "\x00") {
			if strings.HasPrefix(a, scripts) && strings.HasSuffix(a, ".sh") {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// liveWorkers is workersIn without zombies: a worker reaped late by init
// has still exited.
func liveWorkers(t *testing.T, dir string) []int {
	t.Helper()
	var pids []int
	for _, pid := range workersIn(t, dir) {
		if alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// noneLeft fails the test if a worker, a block script or one of pids is
// still running. Killing is done before starflow exits, but SIGKILL is
// delivered asynchronously, so a survivor gets a bounded moment first.
func noneLeft(t *testing.T, dir string, pids ...int) {
	t.Helper()
	deadline := time.Now().Add(hangLimit)
	left := func() []int {
		var l []int
		for _, pid := range pids {
			if alive(pid) {
				l = append(l, pid)
			}
		}
		return append(append(l, liveWorkers(t, dir)...), blockProcs(t, dir)...)
	}
	for len(left()) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if l := left(); len(l) > 0 {
		t.Errorf("processes of the run left after starflow exited: %v", l)
	}
}

// scaleScript submits six gated tasks to an executor of one-slot blocks,
// at most three: the strategy must start all three. Once they are done it
// waits, idle, for the test to see the blocks scaled in.
const scaleScript = `
import parsl
import time
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

parsl.load(Config(strategy="simple", strategy_period=0.1, max_idletime=0.5, executors=[HighThroughputExecutor(
    max_workers_per_node=1,
    provider=LocalProvider(init_blocks=1, min_blocks=0, max_blocks=3, parallelism=1))]))

@bash_app
def gated(i):
    return "while [ ! -e gate ]; do sleep 0.02; done; echo $PARSL_WORKER_BLOCK_ID > ran.%d" % i

print([f.result() for f in [gated(i) for i in range(6)]])
for _ in range(100000):
    try:
        open("scaled-in").read()
        break
    except Exception:
        time.sleep(0.02)
print("idle")
`

func TestHTEXScalesOutAndIn(t *testing.T) {
	t.Parallel()
	r := startBG(t, scaleScript)
	scripts := func() []string {
		m, _ := filepath.Glob(r.path("runinfo/000/submit_scripts/HighThroughputExecutor.block-*.sh"))
		return m
	}
	r.until(t, "three block scripts", 3*hangLimit, func() bool { return len(scripts()) == 3 })
	r.until(t, "scaling out to the load", 3*hangLimit, func() bool {
		// The strategy may tick while the script is still submitting, so
		// the load it reacts to can be any part of the six tasks.
		return strings.Contains(r.log(), "scaling out") && strings.Contains(r.log(), "outstanding tasks want")
	})
	r.until(t, "three workers registered", 3*hangLimit, func() bool {
		return strings.Count(r.log(), "worker registered") == 3
	})
	writeFile(t, r.path("gate"), "")

	cancelled := func() int { return strings.Count(r.log(), "state=CANCELLED") }
	r.until(t, "three blocks scaled in", 3*hangLimit*3, func() bool {
		return strings.Contains(r.log(), "scaling in") && cancelled() == 3
	})
	if pids := liveWorkers(t, r.dir); len(pids) > 0 {
		t.Errorf("workers still running after every block was scaled in: %v", pids)
	}
	writeFile(t, r.path("scaled-in"), "")
	if code := r.exitCode(t, 3*hangLimit*3); code != 0 {
		t.Fatalf("exit status %d\n%s", code, r.describe(t))
	}
	if got, want := readFile(t, r.path("stdout")), "[0, 0, 0, 0, 0, 0]\nidle\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if n := len(scripts()); n != 3 {
		t.Errorf("%d block scripts, want 3 (max_blocks=3)", n)
	}
	// Every block did work: the load was spread, not queued on one.
	blocks := map[string]bool{}
	for i := range 6 {
		blocks[strings.TrimSpace(readFile(t, r.path("ran."+strconv.Itoa(i))))] = true
	}
	if len(blocks) != 3 {
		t.Errorf("tasks ran on blocks %v, want all three", blocks)
	}
	log := r.log()
	in, end := strings.Index(log, "scaling in"), strings.Index(log, "run finished")
	if in < 0 || end < 0 || in > end {
		t.Errorf("the log does not show scaling in before the run finished:\n%s", log)
	}
	noneLeft(t, r.dir)
}

// sleepScript's two bash apps record their pid, then sleep far longer
// than the test waits, on an HTEX block.
const sleepScript = `
import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

parsl.load(Config(strategy_period=0.2, executors=[HighThroughputExecutor(
    max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1))]))

@bash_app
def nap(i):
    return "echo $$ > pids/%d.tmp && mv pids/%d.tmp pids/%d.pid && exec sleep 30" % (i, i, i)

for f in [nap(i) for i in range(2)]:
    f.result()
print("not reached")
`

func TestHTEXSignalStopsRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{
		{syscall.SIGINT, exitInterrupted},
		{syscall.SIGTERM, exitTerminated},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			r := startBG(t, sleepScript)
			if err := os.Mkdir(r.path("pids"), 0o755); err != nil {
				t.Fatal(err)
			}
			var pidFiles []string
			r.until(t, "both apps sleeping", hangLimit, func() bool {
				pidFiles, _ = filepath.Glob(r.path("pids/*.pid"))
				return len(pidFiles) == 2
			})
			apps := readPIDs(t, pidFiles)
			if len(workersIn(t, r.dir)) == 0 || len(blockProcs(t, r.dir)) == 0 {
				t.Fatalf("no worker or block process seen while the apps run; the /proc scan is broken")
			}
			if err := r.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			if code := r.exitCode(t, hangLimit*2); code != tc.code {
				t.Errorf("exit status %d, want %d\n%s", code, tc.code, r.describe(t))
			}
			noneLeft(t, r.dir, apps...)
			if got := readFile(t, r.path("stdout")); got != "" {
				t.Errorf("stdout = %q, want nothing: the script was stopped", got)
			}
			if !strings.Contains(r.log(), "run finished: tasks=2") {
				t.Errorf("log has no summary:\n%s", r.log())
			}
			stderr := readFile(t, r.path("stderr"))
			if !strings.Contains(stderr, "starflow: interrupted; 2 tasks:") {
				t.Errorf("stderr has no summary:\n%s", stderr)
			}
			if !strings.Contains(stderr, "2 tasks: 0 done, 0 failed, 2 cancelled") || strings.Contains(stderr, "never looked at") {
				// The thread pool's TestSignalStopsRun asks the same.
				t.Errorf("interrupted HTEX tasks must count as cancelled, not as failures nobody looked at:\n%s", stderr)
			}
		})
	}
}

const workerInitScript = `
import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

parsl.load(Config(strategy_period=0.2, executors=[HighThroughputExecutor(
    provider=LocalProvider(worker_init="echo cannot load module foo >&2; exit 3"))]))

@python_app
def double(x):
    return 2 * x

print(double(2).result())
`

func TestHTEXWorkerInitFails(t *testing.T) {
	t.Parallel()
	r := startBG(t, workerInitScript)
	code := r.exitCode(t, hangLimit*3)
	if code == 0 {
		t.Fatalf("exit status 0 with a worker_init that fails\n%s", r.describe(t))
	}
	if stderr := readFile(t, r.path("stderr")); !strings.Contains(stderr, "cannot load module foo") {
		t.Errorf("stderr does not quote the block's stderr:\n%s", stderr)
	}
	if got := readFile(t, r.path("stdout")); got != "" {
		t.Errorf("stdout = %q, want nothing", got)
	}
	noneLeft(t, r.dir)
}

// gatedScript's two bash apps wait for a gate file, so the
// run stays up while the test knocks on its interchange.
const gatedScript = `
import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

parsl.load(Config(strategy_period=0.2, executors=[HighThroughputExecutor(
    max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1))]))

@bash_app
def gated(i):
    return "touch started.%d; while [ ! -e gate ]; do sleep 0.02; done" % i

@python_app
def add(a, b):
    return a + b

fs = [gated(i) for i in range(2)]
print([f.result() for f in fs], add(fs[0], 40).result())
`

// workerArgs reads the worker command of block 0 from its script: the
// address, run id, fingerprint and secret file a real worker is given.
func workerArgs(t *testing.T, r *bgRun) []string {
	t.Helper()
	body := readFile(t, r.path("runinfo/000/submit_scripts/HighThroughputExecutor.block-0.sh"))
	for _, line := range strings.Split(body, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[1] == "worker" {
			return f[1:]
		}
	}
	t.Fatalf("no worker command in block 0's script:\n%s", body)
	return nil
}

// setFlag returns args with flag's value replaced.
func setFlag(t *testing.T, args []string, flag, value string) []string {
	t.Helper()
	out := append([]string(nil), args...)
	for i := range out[:len(out)-1] {
		if out[i] == flag {
			out[i+1] = value
			return out
		}
	}
	t.Fatalf("no %s in the worker command %v", flag, args)
	return nil
}

func TestHTEXForeignWorkerRefused(t *testing.T) {
	t.Parallel()
	r := startBG(t, gatedScript)
	r.until(t, "both apps started", hangLimit, func() bool {
		_, e0 := os.Stat(r.path("started.0"))
		_, e1 := os.Stat(r.path("started.1"))
		return e0 == nil && e1 == nil
	})
	args := workerArgs(t, r)
	other := filepath.Join(t.TempDir(), "secret")
	writeFile(t, other, strings.Repeat("ab", 32)+"\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"another run", setFlag(t, args, "--run-id", "0123456789abcdef"), "belongs to run"},
		{"wrong secret", setFlag(t, args, "--secret-file", other), "wrong secret"},
	} {
		// A block id of its own, so that nothing it did could pass for
		// block 0's worker.
		cmd := exec.Command(starflowBinary(t), setFlag(t, tc.args, "--block-id", "7")...)
		cmd.Dir = t.TempDir()
		done := make(chan struct{})
		var out []byte
		var err error
		go func() {
			out, err = cmd.CombinedOutput()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(hangLimit):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("%s: the worker was neither refused nor stopped within %v:\n%s", tc.name, hangLimit, out)
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Errorf("%s: worker exited with %v, want a non-zero status\n%s", tc.name, err, out)
		}
		if !strings.Contains(string(out), "refused this worker") || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: worker output does not say it was refused (%q):\n%s", tc.name, tc.want, out)
		}
	}
	if n := strings.Count(r.log(), "worker registered"); n != 1 {
		t.Errorf("%d workers registered, want only block 0's:\n%s", n, r.log())
	}
	if n := strings.Count(r.log(), "refused connection"); n != 2 {
		t.Errorf("the log shows %d refused connections, want 2:\n%s", n, r.log())
	}

	writeFile(t, r.path("gate"), "")
	if code := r.exitCode(t, hangLimit*2); code != 0 {
		t.Fatalf("exit status %d after the foreign workers\n%s", code, r.describe(t))
	}
	if got, want := readFile(t, r.path("stdout")), "[0, 0] 40\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	noneLeft(t, r.dir)
}
