package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/starflow-hpc/starflow/providers/slurm/slurmtest"
)

// These tests run the real starflow binary against the real Slurm cluster
// of testing/slurm/up.sh. They share it with every other test package, so
// their blocks ask for one CPU, not whole nodes (exclusive=False), have
// short walltimes, and whatever a failed test leaves queued is cancelled
// by its cleanup.

// needSlurm skips the test unless a Slurm controller answers.
func needSlurm(t *testing.T) { slurmtest.Need(t) }

// slurmBG is startBG for a Slurm script: its cleanup also cancels every
// job the run submitted.
func slurmBG(t *testing.T, script string, args ...string) *bgRun {
	t.Helper()
	needSlurm(t)
	r := startBG(t, script, args...)
	t.Cleanup(func() {
		if ids := r.jobs(); len(ids) > 0 {
			_ = exec.Command("scancel", ids...).Run()
		}
	})
	return r
}

var jobIDInLog = regexp.MustCompile(`block submitted: .*job_id=(\d+)`)

// jobs lists the Slurm jobs the run submitted, from its log.
func (r *bgRun) jobs() []string {
	var ids []string
	for _, m := range jobIDInLog.FindAllStringSubmatch(r.log(), -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// inSqueue lists the jobs among ids that squeue still shows as a user
// sees it (pending, running, completing; not the ended ones it keeps for
// MinJobAge).
func inSqueue(t *testing.T, ids []string) []string {
	t.Helper()
	if len(ids) == 0 {
		return nil
	}
	out, err := exec.Command("squeue", "--noheader", "--format=%i %t", "--jobs="+strings.Join(ids, ",")).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "Invalid job id") {
		t.Fatalf("squeue: %v: %s", err, out)
	}
	var listed []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && slices.Contains([]string{"PD", "R", "CG", "CF", "S", "ST", "RQ", "RH", "RF", "RD", "SI", "SO", "RS"}, f[1]) {
			listed = append(listed, line)
		}
	}
	return listed
}

// noJobsLeft fails the test if squeue still shows a job of the run, right
// after starflow exited.
func noJobsLeft(t *testing.T, r *bgRun) {
	t.Helper()
	ids := r.jobs()
	if len(ids) == 0 {
		t.Fatalf("the log names no Slurm job\n%s", r.describe(t))
	}
	if left := inSqueue(t, ids); len(left) > 0 {
		t.Errorf("squeue still shows jobs of the run after starflow exited: %q", left)
	}
}

// gatedSlurm's apps wait for a gate file, so the test can act while they
// run; each records its block in started.<i>.<block>.
const gatedSlurm = `
ex = HighThroughputExecutor(label = "h", max_workers_per_node = 2, prefetch_capacity = 0,
    provider = SlurmProvider(partition = "debug", exclusive = False, walltime = "00:05:00",
                             init_blocks = 1, min_blocks = 0, max_blocks = 1))
parsl.load(Config(executors = [ex], retries = 0, strategy_period = 1))

@bash_app
def gated(i):
    return "touch started.%d.$PARSL_WORKER_BLOCK_ID; while [ ! -e gate ]; do sleep 0.05; done; echo %d" % (i, i)

@python_app
def double(x):
    return 2 * x

fs = [gated(i) for i in range(2)]
print([f.result() for f in fs], double(21).result())
`

func (r *bgRun) started() []string {
	m, _ := filepath.Glob(r.path("started.*"))
	return m
}

// TestSlurmNoLeak: after `starflow run` ends, normally, on SIGINT or on
// SIGTERM, squeue shows none of its jobs.
func TestSlurmNoLeak(t *testing.T) {
	needSlurm(t)
	t.Run("normal end", func(t *testing.T) {
		r := slurmBG(t, gatedSlurm)
		r.until(t, "both apps running on the block", 6*hangLimit, func() bool { return len(r.started()) == 2 })
		writeFile(t, r.path("gate"), "")
		if code := r.exitCode(t, 3*hangLimit); code != 0 {
			t.Fatalf("exit status %d\n%s", code, r.describe(t))
		}
		if got := readFile(t, r.path("stdout")); got != "[0, 0] 42\n" {
			t.Errorf("stdout = %q", got)
		}
		noJobsLeft(t, r)
	})
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, exitInterrupted}, {syscall.SIGTERM, exitTerminated}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			r := slurmBG(t, gatedSlurm)
			r.until(t, "both apps running on the block", 6*hangLimit, func() bool { return len(r.started()) == 2 })
			if left := inSqueue(t, r.jobs()); len(left) == 0 {
				t.Fatalf("squeue does not show the run's block while its apps run; the check below would prove nothing")
			}
			if err := r.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			if code := r.exitCode(t, 3*hangLimit); code != tc.code {
				t.Errorf("exit status %d, want %d\n%s", code, tc.code, r.describe(t))
			}
			noJobsLeft(t, r)
		})
	}
}

// TestSlurmScancelMidRun: a block cancelled under the run (by a user's
// scancel, as walltime or a node failure would) is replaced, and the
// tasks it held run again there without spending a retry (retries=0).
func TestSlurmScancelMidRun(t *testing.T) {
	r := slurmBG(t, gatedSlurm)
	r.until(t, "both apps running on the first block", 6*hangLimit, func() bool { return len(r.started()) == 2 })
	first := r.jobs()
	if len(first) != 1 {
		t.Fatalf("jobs %v, want one block", first)
	}
	if out, err := exec.Command("scancel", first[0]).CombinedOutput(); err != nil {
		t.Fatalf("scancel %s: %v: %s", first[0], err, out)
	}
	r.until(t, "a second block", 6*hangLimit, func() bool { return len(r.jobs()) == 2 })
	r.until(t, "both apps running again on the second block", 6*hangLimit, func() bool {
		n := 0
		for _, f := range r.started() {
			if strings.HasSuffix(f, ".1") {
				n++
			}
		}
		return n == 2
	})
	writeFile(t, r.path("gate"), "")
	if code := r.exitCode(t, 3*hangLimit); code != 0 {
		t.Fatalf("exit status %d: the run did not survive its block\n%s", code, r.describe(t))
	}
	if got := readFile(t, r.path("stdout")); got != "[0, 0] 42\n" {
		t.Errorf("stdout = %q", got)
	}
	if !strings.Contains(r.log(), "manager lost") && !strings.Contains(r.log(), "worker lost") {
		t.Errorf("the log does not say the first block's worker was lost\n%s", r.log())
	}
	// Each app lost once, with the block: a worker that is stopping must
	// not be sent the retries (it says goodbye at once on SIGTERM).
	if n := strings.Count(r.log(), "task lost with its resources"); n != 2 {
		t.Errorf("%d tries lost, want 2 (one per app)\n%s", n, r.log())
	}
	noJobsLeft(t, r)
}

// scaleSlurm: one block at start (min_blocks=1), six gated apps of one
// slot each on blocks of one slot, so up to max_blocks=3 blocks; once the
// apps are done and max_idletime has passed, back to min_blocks. The
// script waits for that itself (connected_managers) and says so.
const scaleSlurm = `
import time
ex = HighThroughputExecutor(label = "h", max_workers_per_node = 1, prefetch_capacity = 0,
    provider = SlurmProvider(partition = "debug", exclusive = False, walltime = "00:05:00",
                             init_blocks = 1, min_blocks = 1, max_blocks = 3))
parsl.load(Config(executors = [ex], strategy_period = 1, max_idletime = 2))

@bash_app
def gated(i):
    return "while [ ! -e gate ]; do sleep 0.05; done; echo $PARSL_WORKER_BLOCK_ID > ran.%d" % i

fs = [gated(i) for i in range(3)]
while len(set([m["block_id"] for m in ex.connected_managers()])) < 3:
    time.sleep(0.1)
print("3 blocks")
open("gate", "w").write("")
[f.result() for f in fs]
while len(ex.connected_managers()) > 1:
    time.sleep(0.1)
print("back to 1 block")
`

func TestSlurmScalesOutAndIn(t *testing.T) {
	r := slurmBG(t, scaleSlurm)
	if code := r.exitCode(t, 12*hangLimit); code != 0 {
		t.Fatalf("exit status %d\n%s", code, r.describe(t))
	}
	if got := readFile(t, r.path("stdout")); got != "3 blocks\nback to 1 block\n" {
		t.Errorf("stdout = %q", got)
	}
	if n := len(r.jobs()); n != 3 {
		t.Errorf("%d blocks submitted, want 3 (max_blocks)", n)
	}
	if !strings.Contains(r.log(), "scaling in") {
		t.Errorf("the log does not show scaling in\n%s", r.log())
	}
	noJobsLeft(t, r)
}

// TestSlurmRefusals: what sbatch (or the partition check before it)
// refuses is an error quoting Slurm, and starflow exits instead of
// waiting for a block that will never come.
func TestSlurmRefusals(t *testing.T) {
	needSlurm(t)
	const script = `
parsl.load(Config(strategy_period = 1, executors = [HighThroughputExecutor(
    provider = SlurmProvider(%s, exclusive = False, walltime = "00:02:00", cmd_timeout = 5))]))

@python_app
def double(x):
    return 2 * x

print(double(2).result())
`
	for _, tc := range []struct {
		name, args string
		code       int
		want       string
	}{
		// Checked when the executor starts: parsl.load fails at its line.
		{"unknown partition", `partition = "no_such_partition"`, exitUsage, "Partition no_such_partition not found"},
		{"too many nodes", `partition = "debug", nodes_per_block = 4`, exitUsage,
			`nodes_per_block: got 4, but partition "debug" has 3 nodes`},
		// Refused by sbatch: the task that waited for the block fails
		// with Slurm's message.
		{"unknown feature", `partition = "debug", constraint = "no_such_feature"`, exitTaskFailed,
			"sbatch: error: Batch job submission failed: Invalid feature specification"},
		{"memory the nodes do not have", `partition = "debug", mem_per_node = 1000`, exitTaskFailed,
			"Requested node configuration is not available"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := slurmBG(t, strings.Replace(script, "%s", tc.args, 1))
			if code := r.exitCode(t, 3*hangLimit); code != tc.code {
				t.Errorf("exit status %d, want %d\n%s", code, tc.code, r.describe(t))
			}
			if stderr := readFile(t, r.path("stderr")); !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr does not quote Slurm's %q:\n%s", tc.want, stderr)
			}
		})
	}
}

// TestSlurmWorkerInitFails: a worker_init that fails ends the block, and
// the error the task gets quotes what the block wrote to its stderr.
func TestSlurmWorkerInitFails(t *testing.T) {
	r := slurmBG(t, `
parsl.load(Config(strategy_period = 1, executors = [HighThroughputExecutor(
    provider = SlurmProvider(partition = "debug", exclusive = False, walltime = "00:02:00",
                             worker_init = "echo cannot load module foo >&2; exit 3"))]))

@python_app
def double(x):
    return 2 * x

print(double(2).result())
`)
	if code := r.exitCode(t, 6*hangLimit); code != exitTaskFailed {
		t.Errorf("exit status %d, want %d\n%s", code, exitTaskFailed, r.describe(t))
	}
	stderr := readFile(t, r.path("stderr"))
	for _, want := range []string{"cannot load module foo", "worker_init failed with exit code 3", "FAILED"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	noJobsLeft(t, r)
}
