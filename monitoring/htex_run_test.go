package monitoring_test

import (
	"context"
	"database/sql"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/starflow-hpc/starflow/monitoring"
	"github.com/starflow-hpc/starflow/monitoring/monitoringtest"
	"github.com/starflow-hpc/starflow/monitoring/web"
	"github.com/starflow-hpc/starflow/providers/slurm/slurmtest"
)

// These tests run `starflow run` as a user does, with a
// HighThroughputExecutor whose tries run in `starflow worker` processes
// the provider starts, and check what the run's database says about
// them: resource rows sampled by the workers, block rows from the
// provider's states, node rows from the workers' registrations, and the
// task columns the kernel's events now carry (log files, memo key).

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// starflowBinary builds cmd/starflow once for the tests that need it.
func starflowBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds starflow and runs it with worker processes")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "starflow-monitoring")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "starflow")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/starflow-hpc/starflow/cmd/starflow").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err, string(out)}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "build starflow: " + e.err.Error() + "\n" + e.out }

// htexScript has a memoized python app busy long enough to be sampled, a
// bash app whose process group is busy and writes to AUTO_LOGNAME, and a
// bash app that fails, writing to a named stderr. PROVIDER is replaced.
const htexScript = `
import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.monitoring.monitoring import MonitoringHub

parsl.load(Config(
    executors=[HighThroughputExecutor(label="mon_htex", max_workers_per_node=2, provider=PROVIDER)],
    monitoring=MonitoringHub(hub_address="127.0.0.1", resource_monitoring_interval=0.1),
))

@python_app(cache=True)
def spin(n):
    t = 0
    for i in range(n):
        t += i
    return t

@bash_app
def busy(stdout=parsl.AUTO_LOGNAME, stderr=parsl.AUTO_LOGNAME):
    return "for i in $(seq 30000); do :; done; sleep 0.6"

@bash_app
def broken(stderr="broken.err"):
    return "echo oops >&2; exit 3"

s = spin(5000000)
b = busy()
f = broken()
print(s.result(), b.result(), f.exception() != None)
`

// runHTEX runs htexScript with provider in a fresh folder and returns
// the folder and its run's database.
func runHTEX(t *testing.T, provider string) (string, *sql.DB) {
	t.Helper()
	bin := starflowBinary(t)
	dir := t.TempDir()
	src := strings.Replace(htexScript, "PROVIDER", provider, 1)
	if err := os.WriteFile(filepath.Join(dir, "mon.py"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--no-progress", "mon.py")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "runinfo", "000", "starflow.log"))
		t.Fatalf("starflow run: %v\n%s\nlog:\n%s", err, out, log)
	}
	if got, want := strings.TrimSpace(string(out)), "12499997500000 0 True"; got != want {
		t.Errorf("the script printed %q, want %q", got, want)
	}
	db, err := monitoring.OpenReadOnly(context.Background(), filepath.Join(dir, "runinfo", "000", monitoring.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return dir, db
}

// TestHTEXRunDatabase: a LocalProvider block of `starflow worker`.
func TestHTEXRunDatabase(t *testing.T) {
	t.Parallel()
	dir, db := runHTEX(t, `LocalProvider(init_blocks=1, max_blocks=1)`)
	checkRemoteResources(t, db)

	// The block, as the provider saw it: submitted, running, then ended
	// when the run shut it down; with its job id (the block's pid here).
	states := monitoringtest.Column(t, db, `SELECT status FROM block WHERE executor_label = 'mon_htex' AND block_id = '0' ORDER BY timestamp`)
	if len(states) < 3 || states[0] != "PENDING" || !slices.Contains(states, "RUNNING") ||
		!slices.Contains([]string{"COMPLETED", "CANCELLED"}, states[len(states)-1]) {
		t.Errorf("block 0's states = %q, want PENDING, RUNNING, then COMPLETED or CANCELLED", states)
	}
	if jobs := monitoringtest.Column(t, db, `SELECT DISTINCT job_id FROM block`); len(jobs) != 1 || jobs[0] == "" {
		t.Errorf("block job ids = %q, want the block's one", jobs)
	}

	// The worker, as it registered and left: its node's cores and memory.
	host, _ := os.Hostname()
	nodes := monitoringtest.Column(t, db, `SELECT hostname || ' ' || uid || ' ' || block_id || ' ' || cpu_count || ' ' ||
		(total_memory > 0) || ' ' || worker_count || ' ' || active FROM node ORDER BY timestamp, active DESC`)
	cpus := strconv.Itoa(runtime.NumCPU())
	want := []string{host + " 1 0 " + cpus + " 1 2 1", host + " 1 0 " + cpus + " 1 2 0"}
	if !slices.Equal(nodes, want) {
		t.Errorf("node rows = %q, want %q", nodes, want)
	}

	// Task columns the kernel's events carry now.
	logs := monitoringtest.Column(t, db, `SELECT task_func_name || ' ' || COALESCE(task_stdout, '-') || ' ' || COALESCE(task_stderr, '-')
		FROM task WHERE task_kind = 'bash' ORDER BY task_id`)
	busyLog := filepath.Join("runinfo", "000", "task_logs", "0000", "task_0001_busy") // as the script's future names it
	if want := []string{"busy " + busyLog + ".stdout " + busyLog + ".stderr", "broken - broken.err"}; !slices.Equal(logs, want) {
		t.Errorf("bash apps' log files = %q, want %q", logs, want)
	}
	hash := monitoringtest.Column(t, db, `SELECT COALESCE(task_hashsum, '') FROM task WHERE task_func_name = 'spin'`)
	if len(hash) != 1 || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(hash[0]) {
		t.Errorf("spin's task_hashsum = %q, want its memo key in hex", hash)
	}
	if h := monitoringtest.Column(t, db, `SELECT COUNT(*) FROM task WHERE task_hashsum IS NOT NULL`); h[0] != "1" {
		t.Errorf("%s tasks have a hashsum, want only the memoized one", h[0])
	}

	// The dashboard's failures name the failed app's log file.
	s, err := web.New(web.Options{RunInfo: filepath.Join(dir, "runinfo")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL + "/runs/000/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "stderr <code>broken.err</code>") {
		t.Errorf("GET /runs/000/: status %d; want the failure's stderr file named:\n%s", resp.StatusCode, body)
	}
}

// checkRemoteResources: the python try's rows are its worker's process,
// the bash try's its own process group, and both tries ran on a block.
func checkRemoteResources(t *testing.T, db *sql.DB) {
	t.Helper()
	pids := map[string][]string{}
	for _, app := range []string{"spin", "busy"} {
		pids[app] = monitoringtest.Column(t, db, `SELECT DISTINCT r.psutil_process_pid FROM resource r JOIN task USING (task_id, run_id)
			WHERE task_func_name = ? AND r.psutil_process_memory_resident > 0 AND r.psutil_process_status IS NOT NULL`, app)
		if len(pids[app]) != 1 {
			t.Errorf("%s: sampled pids %q, want one (the try's)", app, pids[app])
		}
		where := monitoringtest.Column(t, db, `SELECT COALESCE(y.block_id, '-') || ' ' || COALESCE(y.hostname, '-') FROM try y JOIN task USING (task_id, run_id)
			WHERE task_func_name = ?`, app)
		if len(where) != 1 || !strings.HasPrefix(where[0], "0 ") || strings.HasSuffix(where[0], " -") {
			t.Errorf("%s's try ran on %q, want block 0 and a host", app, where)
		}
	}
	self := strconv.Itoa(os.Getpid())
	if len(pids["spin"]) == 1 && len(pids["busy"]) == 1 && (pids["spin"][0] == pids["busy"][0] || pids["spin"][0] == self) {
		t.Errorf("python try sampled as pid %s, bash try as %s: want the worker and the app's group", pids["spin"][0], pids["busy"][0])
	}
	if n := monitoringtest.Column(t, db, `SELECT COUNT(*) FROM resource r JOIN task USING (task_id, run_id)
		WHERE task_func_name = 'busy' AND psutil_process_cpu_percent IS NOT NULL`); n[0] == "0" {
		t.Error("no sample of the bash try has a cpu_percent: it was sampled once at most")
	}
}

// TestSlurmRunDatabase: the same on the real cluster, one block of one
// node; nothing is left in squeue afterwards.
func TestSlurmRunDatabase(t *testing.T) {
	t.Parallel()
	slurmtest.Need(t)
	_, db := runHTEX(t, `SlurmProvider(partition="debug", nodes_per_block=1, init_blocks=1, min_blocks=0, max_blocks=1,
        walltime="00:05:00", exclusive=False, launcher=SrunLauncher())`)
	checkRemoteResources(t, db)
	states := monitoringtest.Column(t, db, `SELECT status FROM block WHERE block_id = '0' ORDER BY timestamp`)
	if len(states) < 2 || states[0] != "PENDING" || !slices.Contains(states, "RUNNING") {
		t.Errorf("block 0's states = %q, want PENDING then RUNNING, ...", states)
	}
	if last := states[len(states)-1]; !slices.Contains([]string{"COMPLETED", "CANCELLED"}, last) {
		t.Errorf("block 0 last seen %s, want it ended (COMPLETED or CANCELLED)", last)
	}
	jobs := monitoringtest.Column(t, db, `SELECT DISTINCT job_id FROM block WHERE job_id IS NOT NULL`)
	if len(jobs) != 1 {
		t.Fatalf("job ids = %q, want the block's one", jobs)
	}
	if nodes := monitoringtest.Column(t, db, `SELECT COUNT(*) FROM node WHERE cpu_count > 0 AND total_memory > 0 AND block_id = '0'`); nodes[0] == "0" {
		t.Error("no node row for the block's worker")
	}
	out, _ := exec.Command("squeue", "--noheader", "--format=%i %t", "--jobs="+jobs[0]).Output()
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("squeue still shows the block after starflow exited: %q", s)
	}
}
