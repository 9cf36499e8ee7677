package slurm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/providers"
	"github.com/starflow-hpc/starflow/providers/launchers"
)

// fakeRunner answers each command from a table keyed by its name and
// records every call.
type fakeRunner struct {
	mu      sync.Mutex
	answers map[string]answer
	calls   []string
}

type answer struct {
	stdout, stderr string
	err            error
	hang           bool // block until ctx ends, as a hung slurmctld would
}

func (f *fakeRunner) Run(ctx context.Context, name string, args []string, _ []byte) ([]byte, []byte, error) {
	f.mu.Lock()
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	a := f.answers[name]
	f.mu.Unlock()
	if a.hang {
		<-ctx.Done()
		return nil, nil, context.Cause(ctx)
	}
	return []byte(a.stdout), []byte(a.stderr), a.err
}

func newFake(t *testing.T, answers map[string]answer, edit func(*Config)) (*Provider, *fakeRunner) {
	t.Helper()
	f := &fakeRunner{answers: answers}
	cfg := Defaults()
	cfg.Runner = f
	if edit != nil {
		edit(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, f
}

func TestScript(t *testing.T) {
	t.Parallel()
	b := providers.Block{ID: 3, Label: "htex", Command: "worker --block 3", TasksPerNode: 2, Dir: "/runinfo/000/submit_scripts"}
	tests := []struct {
		name string
		edit func(*Config)
		want []string // the #SBATCH lines, in order
	}{
		{"defaults", nil, []string{
			"--job-name=htex.block-3",
			"--output=/runinfo/000/submit_scripts/htex.block-3.stdout",
			"--error=/runinfo/000/submit_scripts/htex.block-3.stderr",
			"--chdir=/runinfo/000/submit_scripts",
			"--nodes=1", "--time=00:10:00", "--ntasks-per-node=2", "--exclusive",
		}},
		{"everything", func(c *Config) {
			c.NodesPerBlock, c.Walltime, c.Exclusive = 3, 90*time.Minute, false
			c.Partition, c.Account, c.QOS, c.Constraint, c.Clusters = "debug", "proj", "high", "haswell", "c1"
			c.MemPerNode, c.CoresPerNode = 4, 5
			c.SchedulerOptions = "#SBATCH --gres=gpu:1\n#SBATCH --time=02:00:00\n"
		}, []string{
			"--job-name=htex.block-3",
			"--output=/runinfo/000/submit_scripts/htex.block-3.stdout",
			"--error=/runinfo/000/submit_scripts/htex.block-3.stderr",
			"--chdir=/runinfo/000/submit_scripts",
			"--nodes=3", "--time=01:30:00", "--ntasks-per-node=2",
			"--partition=debug", "--account=proj", "--qos=high", "--constraint=haswell", "--clusters=c1",
			"--mem=4g", "--cpus-per-task=2", // floor(5 / 2)
			"--gres=gpu:1", "--time=02:00:00", // scheduler_options last, so they win
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := Defaults()
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			script := cfg.Script(b)
			var got []string
			for _, line := range strings.Split(script, "\n") {
				if rest, ok := strings.CutPrefix(line, "#SBATCH "); ok {
					got = append(got, rest)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("#SBATCH lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if !strings.HasPrefix(script, "#!/bin/bash\n") || !strings.Contains(script, "export PARSL_WORKER_BLOCK_ID=3\n") ||
				!strings.Contains(script, "worker --block 3") {
				t.Errorf("script lacks the shebang, block id or worker command:\n%s", script)
			}
		})
	}
}

func TestScriptWorkerInitAndResources(t *testing.T) {
	t.Parallel()
	cfg := Defaults()
	cfg.WorkerInit = "module load mpi"
	cfg.MemPerNode, cfg.CoresPerNode = 8, 4
	cfg.Launcher = launchers.NewSimple()
	script := cfg.Script(providers.Block{ID: 0, Label: "mpi", Command: "run-worker", Dir: "/d"})
	body := script[strings.LastIndex(script, "#SBATCH"):]
	order := []string{"export PARSL_MEMORY_GB=8", "export PARSL_CORES=4", providers.WorkerInitFailed, "module load mpi", "run-worker"}
	at := 0
	for _, s := range order {
		i := strings.Index(body[at:], s)
		if i < 0 {
			t.Fatalf("%q missing or out of order in:\n%s", s, script)
		}
		at += i
	}
}

func TestParseJobID(t *testing.T) {
	t.Parallel()
	def, custom := DefaultRegexJobID, `job (?P<id>\d+) queued`
	tests := []struct{ name, stdout, want, err, re string }{
		{"plain", "Submitted batch job 42\n", "42", "", def},
		{"federation", "Submitted batch job 7 on cluster c1\n", "7", "", def},
		{"custom", "note: job 99 queued\n", "99", "", custom},
		{"nothing", "sbatch: warning: odd\n", "", "no job id in sbatch's answer", def},
	}
	for _, tt := range tests {
		re, err := compileJobID(tt.re)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseJobID(re, tt.stdout)
		if got != tt.want || (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: parseJobID(%q) = %q, %v; want %q, error containing %q", tt.name, tt.stdout, got, err, tt.want, tt.err)
		}
	}
}

func TestSqueueStates(t *testing.T) {
	t.Parallel()
	out := "CLUSTER: c1\n" + `1 PD Resources
2 R None
3 CG None
4 CD None
5 CA None
6 F NonZeroExitCode
7 TO TimeLimit
8 NF NodeDown
9 PR None
10 OOM OutOfMemory
11 PD PartitionNodeLimit
12 ZZ None
13 S None
`
	want := map[string]providers.Status{
		"1": {State: providers.Pending, Message: "Resources"}, "2": {State: providers.Running},
		"3": {State: providers.Completing}, "4": {State: providers.Completed},
		"5": {State: providers.Cancelled}, "6": {State: providers.Failed},
		"7": {State: providers.Timeout}, "8": {State: providers.NodeFail},
		"9": {State: providers.Preempted}, "10": {State: providers.OutOfMemory},
		"11": {State: providers.Pending, Message: "PartitionNodeLimit"},
		"12": {State: providers.Unknown, Message: `squeue state code "ZZ" is not one starflow knows`},
		"13": {State: providers.Pending},
	}
	got := parseSqueue(out)
	if len(got) != len(want) {
		t.Errorf("parsed %d jobs, want %d: %v", len(got), len(want), got)
	}
	for id, w := range want {
		if st := squeueStatus(got[id]); st != w {
			t.Errorf("job %s: %v, want %v", id, st, w)
		}
	}
}

func TestStatusOneSqueueForAll(t *testing.T) {
	t.Parallel()
	p, f := newFake(t, map[string]answer{
		"squeue": {stdout: "11 R None\n12 PD Priority\n13 TO TimeLimit\n"},
		"sacct":  {stderr: "Slurm accounting storage is disabled\n", err: errors.New("exit status 1")},
	}, nil)
	ids := []string{"11", "12", "13", "14"}
	got, err := p.Status(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if got["11"].State != providers.Running || got["12"].State != providers.Pending || got["13"].State != providers.Timeout {
		t.Errorf("states %v", got)
	}
	if got["14"].State != providers.Unknown || !got["14"].Gone || !strings.Contains(got["14"].Message, "no accounting") {
		t.Errorf("job gone without accounting: %v (gone %v), want Unknown and Gone, saying there is no accounting", got["14"], got["14"].Gone)
	}
	want := []string{"squeue --noheader --states=all --format=%i %t %r --jobs=11,12,13,14", "sacct -X --noheader --parsable2 --format=JobID,State --jobs=14"}
	if strings.Join(f.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(f.calls, "\n"), strings.Join(want, "\n"))
	}

	// Next poll: 13 has left squeue but keeps its ending, and sacct, known
	// to be off, is not asked again.
	f.answers["squeue"] = answer{stdout: "11 R None\n"}
	got, _ = p.Status(context.Background(), []string{"11", "13", "14"})
	if got["13"].State != providers.Timeout || got["14"].State != providers.Unknown {
		t.Errorf("second poll: %v", got)
	}
	if len(f.calls) != 3 {
		t.Errorf("second poll made %d calls, want 1 squeue: %v", len(f.calls)-2, f.calls[2:])
	}
}

func TestStatusGone(t *testing.T) {
	t.Parallel()
	invalid := answer{stderr: "slurm_load_jobs error: Invalid job id specified\n", err: errors.New("exit status 1")}
	tests := []struct {
		name   string
		squeue answer
		sacct  answer
		cancel bool
		want   providers.Status
	}{
		{"sacct says timeout", invalid, answer{stdout: "5|TIMEOUT\n"}, false,
			providers.Status{State: providers.Timeout, Message: "from sacct: TIMEOUT"}},
		{"sacct says cancelled", answer{}, answer{stdout: "5|CANCELLED by 0\n"}, false,
			providers.Status{State: providers.Cancelled, Message: "from sacct: CANCELLED by 0"}},
		{"sacct says node fail", answer{}, answer{stdout: "5|NODE_FAIL\n"}, false,
			providers.Status{State: providers.NodeFail, Message: "from sacct: NODE_FAIL"}},
		{"sacct fails", invalid, answer{stderr: "sacct: error: slurmdbd down", err: errors.New("exit status 1")}, false,
			providers.Status{State: providers.Unknown, Message: "job left squeue; sacct: exit status 1: sacct: error: slurmdbd down"}},
		{"sacct knows nothing", invalid, answer{}, false,
			providers.Status{State: providers.Unknown, Message: "job left squeue; sacct does not know it either", Gone: true}},
		{"we cancelled it", invalid, answer{hang: true}, true,
			providers.Status{State: providers.Cancelled, Message: "cancelled by starflow"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, _ := newFake(t, map[string]answer{"squeue": tt.squeue, "sacct": tt.sacct}, nil)
			if tt.cancel {
				if err := p.Cancel(context.Background(), []string{"5"}); err != nil {
					t.Fatal(err)
				}
			}
			got, err := p.Status(context.Background(), []string{"5"})
			if err != nil {
				t.Fatal(err)
			}
			if got["5"] != tt.want {
				t.Errorf("got %v, want %v", got["5"], tt.want)
			}
		})
	}
}

func TestStatusSqueueFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a    answer
		want string
	}{
		{"error", answer{stderr: "squeue: error: Unable to contact slurm controller", err: errors.New("exit status 1")},
			"Unable to contact slurm controller"},
		{"hang", answer{hang: true}, "did not answer within cmd_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, _ := newFake(t, map[string]answer{"squeue": tt.a}, func(c *Config) { c.CmdTimeout = time.Millisecond })
			got, err := p.Status(context.Background(), []string{"1", "2"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
			for _, id := range []string{"1", "2"} {
				if got[id].State != providers.Unknown || !strings.Contains(got[id].Message, tt.want) {
					t.Errorf("job %s: %v, want Unknown quoting %q", id, got[id], tt.want)
				}
			}
		})
	}
}

func TestSubmit(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "submit_scripts")
	p, f := newFake(t, map[string]answer{"sbatch": {stdout: "Submitted batch job 77\n"}}, func(c *Config) { c.Clusters = "c1" })
	b := providers.Block{ID: 2, Label: "htex", Command: "w", Dir: dir}
	id, err := p.Submit(context.Background(), b)
	if err != nil || id != "77" {
		t.Fatalf("Submit = %q, %v; want 77", id, err)
	}
	path := filepath.Join(dir, "htex.block-2.submit")
	if f.calls[0] != "sbatch --clusters=c1 "+path {
		t.Errorf("ran %q", f.calls[0])
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("script not written: %v", err)
	}
}

func TestSubmitRefused(t *testing.T) {
	t.Parallel()
	p, _ := newFake(t, map[string]answer{"sbatch": {
		stderr: "sbatch: error: invalid partition specified: nope\nsbatch: error: Batch job submission failed: Invalid partition name specified\n",
		err:    errors.New("exit status 1"),
	}}, nil)
	_, err := p.Submit(context.Background(), providers.Block{ID: 0, Label: "htex", Command: "w", Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "Invalid partition name specified") || !strings.HasPrefix(err.Error(), "submit block 0: sbatch:") {
		t.Errorf("error %v, want one quoting sbatch's message", err)
	}
}

func TestSubmitHangs(t *testing.T) {
	t.Parallel()
	p, _ := newFake(t, map[string]answer{"sbatch": {hang: true}}, func(c *Config) { c.CmdTimeout = time.Millisecond })
	_, err := p.Submit(context.Background(), providers.Block{ID: 0, Label: "htex", Command: "w", Dir: t.TempDir()})
	if !errors.Is(err, ErrCmdTimeout) || !strings.Contains(err.Error(), "htex.block-0 in squeue") {
		t.Errorf("error %v, want ErrCmdTimeout naming the job to look for", err)
	}
}

func TestCancelOneCall(t *testing.T) {
	t.Parallel()
	p, f := newFake(t, map[string]answer{}, nil)
	if err := p.Cancel(context.Background(), []string{"1", "2", "3"}); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 1 || f.calls[0] != "scancel 1 2 3" {
		t.Errorf("calls %v, want one scancel 1 2 3", f.calls)
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"max below min", func(c *Config) { c.MinBlocks, c.MaxBlocks = 3, 2 }, "max_blocks (2) < min_blocks (3)"},
		{"no nodes", func(c *Config) { c.NodesPerBlock = 0 }, "nodes_per_block: got 0, want an integer >= 1"},
		{"walltime", func(c *Config) { c.Walltime = -time.Second }, `walltime: got -1s, want "HH:MM:SS"`},
		{"regex", func(c *Config) { c.RegexJobID = `job (\d+)` }, "regex_job_id"},
		{"partition", func(c *Config) { c.Partition = "a b" }, "partition: got \"a b\""},
	}
	for _, tt := range tests {
		cfg := Defaults()
		tt.edit(&cfg)
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "SlurmProvider: ") {
			t.Errorf("%s: New error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestExecRunnerTimeout(t *testing.T) {
	t.Parallel()
	p, err := New(func() Config { c := Defaults(); c.CmdTimeout = 50 * time.Millisecond; return c }())
	if err != nil {
		t.Fatal(err)
	}
	// A real command that outlives cmd_timeout stands in for a hung
	// squeue.
	_, _, err = p.command(context.Background(), "sleep", "60")
	if !errors.Is(err, ErrCmdTimeout) {
		t.Errorf("error %v, want ErrCmdTimeout", err)
	}
}

// TestCloseCancelsLateSubmission: a run stopped while sbatch is answering
// must not leave the job it queued. sbatch is not cut short by the run's
// context, and Close cancels what it queued.
func TestCloseCancelsLateSubmission(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	f := &slowSbatch{release: release, started: make(chan struct{})}
	cfg := Defaults()
	cfg.Runner = f
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Submit(ctx, providers.Block{ID: 0, Label: "htex", Command: "w", Dir: t.TempDir()})
		done <- err
	}()
	<-f.started
	cancel() // Ctrl-C while sbatch is still talking to slurmctld
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Submit: %v, want the job id sbatch gave", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if last := f.calls[len(f.calls)-1]; last != "scancel 91" {
		t.Errorf("calls %v, want the late job 91 cancelled", f.calls)
	}
}

// slowSbatch answers sbatch only once released, whatever its context
// says, as a slow slurmctld that has already queued the job would.
type slowSbatch struct {
	mu      sync.Mutex
	calls   []string
	release chan struct{}
	started chan struct{}
	once    sync.Once
}

func (f *slowSbatch) Run(ctx context.Context, name string, args []string, _ []byte) ([]byte, []byte, error) {
	f.mu.Lock()
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	f.mu.Unlock()
	if name != "sbatch" {
		return nil, nil, nil
	}
	f.once.Do(func() { close(f.started) })
	select {
	case <-f.release:
		return []byte("Submitted batch job 91\n"), nil, nil
	case <-ctx.Done():
		return nil, nil, context.Cause(ctx)
	}
}

// TestSubmitTransient: sbatch failing because slurmctld did not answer is
// transient (the strategy retries it); a refusal of the job is not.
func TestSubmitTransient(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		stderr    string
		transient bool
	}{
		{"sbatch: error: Batch job submission failed: Socket timed out on send/recv operation\n", true},
		{"sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n", true},
		{"sbatch: error: Batch job submission failed: Invalid partition name specified\n", false},
		{"sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified\n", false},
	} {
		p, _ := newFake(t, map[string]answer{"sbatch": {stderr: tt.stderr, err: errors.New("exit status 1")}}, nil)
		_, err := p.Submit(context.Background(), providers.Block{ID: 0, Label: "htex", Command: "w", Dir: t.TempDir()})
		if err == nil || providers.IsTransient(err) != tt.transient {
			t.Errorf("sbatch saying %q: err %v, transient %v, want %v", tt.stderr, err, providers.IsTransient(err), tt.transient)
		}
	}
}
