package local

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/providers"
	"github.com/starflow-hpc/starflow/providers/launchers"
)

// newProvider returns a provider with Parsl's defaults edited by edit,
// closed when the test ends.
func newProvider(t *testing.T, edit func(*Config)) *Provider {
	t.Helper()
	cfg := Defaults()
	cfg.Grace = 200 * time.Millisecond
	if edit != nil {
		edit(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func submit(t *testing.T, p *Provider, b providers.Block) string {
	t.Helper()
	if b.Dir == "" {
		b.Dir = filepath.Join(t.TempDir(), "submit_scripts")
	}
	if b.Label == "" {
		b.Label = "htex"
	}
	id, err := p.Submit(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func status(t *testing.T, p *Provider, id string) providers.Status {
	t.Helper()
	st, err := p.Status(context.Background(), []string{id})
	if err != nil {
		t.Fatal(err)
	}
	return st[id]
}

// waitDone blocks until the block has a final status (the test's own
// deadline bounds it) and returns it as Status reports it.
func waitDone(t *testing.T, p *Provider, id string) providers.Status {
	t.Helper()
	p.mu.Lock()
	j := p.jobs[id]
	p.mu.Unlock()
	<-j.done
	return status(t, p, id)
}

// waitFile blocks until path exists: the block has got that far.
func waitFile(t *testing.T, path string) {
	t.Helper()
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func pgid(t *testing.T, id string) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.SplitN(id, ".", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// alive reports whether pid is a live (non-zombie) process.
func alive(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}

func TestRunCancel(t *testing.T) {
	t.Parallel()
	p := newProvider(t, nil)
	dir := filepath.Join(t.TempDir(), "submit_scripts")
	id := submit(t, p, providers.Block{ID: 3, Command: "touch started.$1; exec sleep 1000", TasksPerNode: 2, Dir: dir})
	waitFile(t, filepath.Join(dir, "started.1"))
	waitFile(t, filepath.Join(dir, "started.2"))

	if st := status(t, p, id); st.State != providers.Running {
		t.Fatalf("status of a sleeping block = %v, want RUNNING", st)
	}
	// A copy touches its file before it execs sleep, so for a moment the
	// group may still hold the copy's subshell: wait for it to settle.
	members := groupMembers(pgid(t, id))
	for deadline := time.Now().Add(10 * time.Second); len(members) != 3 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		members = groupMembers(pgid(t, id))
	}
	if len(members) != 3 { // bash and two sleeps
		t.Fatalf("block group has %d live processes, want 3 (bash + 2 copies)", len(members))
	}
	script, err := os.ReadFile(filepath.Join(dir, "htex.block-3.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#!/bin/bash\n", "export PARSL_WORKER_BLOCK_ID=3\n", "WORKERCOUNT=2\n", "touch started.$1; exec sleep 1000\n"} {
		if !strings.Contains(string(script), want) {
			t.Errorf("submit script lacks %q:\n%s", want, script)
		}
	}
	for _, suffix := range []string{".stdout", ".stderr"} {
		if _, err := os.Stat(filepath.Join(dir, "htex.block-3"+suffix)); err != nil {
			t.Errorf("no %s beside the script: %v", suffix, err)
		}
	}

	if err := p.Cancel(context.Background(), []string{id}); err != nil {
		t.Fatal(err)
	}
	if st := status(t, p, id); st.State != providers.Cancelled {
		t.Errorf("status after Cancel = %v, want CANCELLED", st)
	}
	for _, pid := range members {
		if alive(pid) {
			t.Errorf("process %d of the cancelled block is still alive", pid)
		}
	}
	if err := p.Cancel(context.Background(), []string{id}); err != nil {
		t.Errorf("cancelling an ended block again: %v", err)
	}
}

func TestEndings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		edit       func(*Config)
		command    string
		wantState  providers.JobState
		wantInMsg  []string
		wantNotRan bool // the command must not have run
	}{
		{name: "exit 0", command: "true", wantState: providers.Completed},
		{name: "exit 3", edit: func(c *Config) { c.Launcher = launchers.NewSimple() },
			command: "echo 'worker: cannot reach 10.0.0.1:54000' >&2; exit 3", wantState: providers.Failed,
			wantInMsg: []string{"exit code 3", "htex.block-0.stderr ends with:", "worker: cannot reach 10.0.0.1:54000"}},
		{name: "worker_init fails", edit: func(c *Config) { c.WorkerInit = "echo 'module: no such module: py3' >&2\nfalse" },
			command: "touch ran", wantState: providers.Failed, wantNotRan: true,
			wantInMsg: []string{"exit code 1", "module: no such module: py3", providers.WorkerInitFailed + " 1"}},
		{name: "all copies fail", edit: func(c *Config) { c.Launcher = launchers.SingleNode{} },
			command: "echo copy $1 failed >&2; exit 2", wantState: providers.Failed, wantInMsg: []string{"exit code 1", "copy 1 failed"}},
		{name: "walltime", edit: func(c *Config) { c.Walltime = 300 * time.Millisecond },
			command: "exec sleep 1000", wantState: providers.Timeout, wantInMsg: []string{"walltime 00:00:01 exceeded"}},
		{name: "killed from outside", edit: func(c *Config) { c.Launcher = launchers.NewSimple() },
			command: "echo about to die >&2; kill -KILL $$", wantState: providers.Failed,
			wantInMsg: []string{"killed by SIGKILL", "about to die"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newProvider(t, tt.edit)
			dir := t.TempDir()
			id := submit(t, p, providers.Block{Command: tt.command, Dir: dir})
			st := waitDone(t, p, id)
			if st.State != tt.wantState {
				t.Errorf("state = %v, want %v", st, tt.wantState)
			}
			for _, w := range tt.wantInMsg {
				if !strings.Contains(st.Message, w) {
					t.Errorf("message %q lacks %q", st.Message, w)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "ran")); tt.wantNotRan && err == nil {
				t.Errorf("the worker command ran after worker_init failed")
			}
		})
	}
}

// TestEnvironment: the block runs in its submit_scripts folder with the
// variables Parsl's launchers and workers read.
func TestEnvironment(t *testing.T) {
	t.Parallel()
	p := newProvider(t, func(c *Config) { c.Launcher = launchers.NewSimple() })
	dir := t.TempDir()
	id := submit(t, p, providers.Block{ID: 12, Label: "gpu", Dir: dir,
		Command: `echo "$PARSL_WORKER_BLOCK_ID $JOBNAME $PWD" > env.out`})
	if st := waitDone(t, p, id); st.State != providers.Completed {
		t.Fatalf("block ended %v", st)
	}
	got, err := os.ReadFile(filepath.Join(dir, "env.out"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "12 gpu.block-12 " + dir + "\n"; string(got) != want {
		t.Errorf("environment = %q, want %q", got, want)
	}
}

// TestCloseLeavesNothing: Close ends every block, including processes that
// ignore SIGTERM and processes a block left in the background, and later
// Submits fail.
func TestCloseLeavesNothing(t *testing.T) {
	t.Parallel()
	p := newProvider(t, nil)
	dir := t.TempDir()
	commands := []string{
		"touch up.$1; exec sleep 1000",
		"trap '' TERM; touch up.$1; sleep 1000; sleep 1000",
		"(trap '' TERM; exec sleep 1000) & touch up.$1; wait",
	}
	var pids []int
	var ids []string
	for i, c := range commands {
		sub := filepath.Join(dir, strconv.Itoa(i))
		id := submit(t, p, providers.Block{ID: i, Command: c, TasksPerNode: 2, Dir: sub})
		waitFile(t, filepath.Join(sub, "up.1"))
		waitFile(t, filepath.Join(sub, "up.2"))
		ids = append(ids, id)
		pids = append(pids, groupMembers(pgid(t, id))...)
	}
	if len(pids) < 3*3 {
		t.Fatalf("found %d processes of 3 blocks, want at least 9", len(pids))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d outlived Close", pid)
		}
	}
	for _, id := range ids {
		if got := groupMembers(pgid(t, id)); len(got) > 0 {
			t.Errorf("group %s still has %v", id, got)
		}
		if st := status(t, p, id); st.State != providers.Cancelled {
			t.Errorf("block %s after Close = %v, want CANCELLED", id, st)
		}
	}
	if _, err := p.Submit(context.Background(), providers.Block{Command: "true", Dir: dir}); err == nil ||
		!strings.Contains(err.Error(), "provider closed") {
		t.Errorf("Submit after Close = %v, want a provider closed error", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStatusAndCancelOfUnknownIDs(t *testing.T) {
	t.Parallel()
	p := newProvider(t, nil)
	st := status(t, p, "999999")
	if st.State != providers.Unknown || !strings.Contains(st.Message, "no block with job id 999999") {
		t.Errorf("status of an unknown id = %v, want UNKNOWN naming it", st)
	}
	err := p.Cancel(context.Background(), []string{"999999"})
	if err == nil || !strings.Contains(err.Error(), "999999") {
		t.Errorf("Cancel of an unknown id = %v, want an error naming it", err)
	}
}

func TestSubmitErrors(t *testing.T) {
	t.Parallel()
	p := newProvider(t, nil)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    providers.Block
		want string
	}{
		{"no dir", providers.Block{ID: 4, Command: "true"}, "submit block 4: no submit_scripts folder"},
		{"dir is a file", providers.Block{ID: 5, Command: "true", Dir: filepath.Join(file, "sub")}, "submit block 5: mkdir"},
	}
	for _, tt := range tests {
		_, err := p.Submit(context.Background(), tt.b)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Submit = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	cfg := Defaults()
	cfg.MinBlocks, cfg.MaxBlocks = 3, 2
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "LocalProvider: max_blocks (2) < min_blocks (3)") {
		t.Errorf("New = %v, want the max_blocks error", err)
	}
	d := Defaults().Settings
	if d.NodesPerBlock != 1 || d.InitBlocks != 1 || d.MinBlocks != 0 || d.MaxBlocks != 1 || d.Parallelism != 1 ||
		d.CmdTimeout != 30*time.Second || d.Walltime != 0 {
		t.Errorf("Defaults() = %+v, want Parsl's LocalProvider defaults", d)
	}
	if _, ok := d.Launcher.(launchers.SingleNode); !ok {
		t.Errorf("default launcher = %T, want SingleNode", d.Launcher)
	}
}

// TestGroupSignalRefusesAfterRelease: once the leader may be reaped the
// group id is no longer ours, and pgid 0 would be our own group.
func TestGroupSignalRefusesAfterRelease(t *testing.T) {
	t.Parallel()
	var g group
	if err := g.signal(0, syscall.SIGTERM); err == nil {
		t.Errorf("signal(0) = nil; it must never reach our own group")
	}
	g.release(0)
	if err := g.signal(os.Getpid(), syscall.Signal(0)); err != os.ErrProcessDone {
		t.Errorf("signal after release = %v, want os.ErrProcessDone", err)
	}
}
