package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/providers"
	"github.com/starflow-hpc/starflow/providers/launchers"
	"github.com/starflow-hpc/starflow/providers/slurm"
)

// TestSlurmSecondSignalCancelsJobs: a second Ctrl-C exits at once, without
// the executors' shutdown, yet the Slurm jobs this process submitted are
// cancelled before it does.
func TestSlurmSecondSignalCancelsJobs(t *testing.T) {
	needSlurm(t)
	cfg := slurm.Defaults()
	cfg.Partition, cfg.Exclusive, cfg.Walltime = "debug", false, 2*time.Minute
	cfg.Launcher = launchers.NewSimple()
	jobs := slurm.NewJobs()
	cfg.Jobs = jobs
	p, err := slurm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.Submit(context.Background(), providers.Block{Label: "second-signal", Command: "sleep 120",
		Dir: filepath.Join(t.TempDir(), "submit_scripts")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command("scancel", id).Run() })
	if left := inSqueue(t, []string{id}); len(left) == 0 {
		t.Fatalf("job %s is not in squeue right after sbatch; the check below would prove nothing", id)
	}

	var stderr bytes.Buffer
	exited := make(chan int, 1)
	s := newSignals(func(error) {}, &stderr, func(code int) { exited <- code })
	s.slurmJobs = jobs
	go s.loop()
	s.ch <- syscall.SIGINT
	s.ch <- syscall.SIGINT
	if code := <-exited; code != exitInterrupted {
		t.Errorf("exit code %d, want %d", code, exitInterrupted)
	}
	if !strings.Contains(stderr.String(), "cancelled Slurm jobs") || !strings.Contains(stderr.String(), id) {
		t.Errorf("stderr does not say job %s was cancelled:\n%s", id, stderr.String())
	}
	if left := inSqueue(t, []string{id}); len(left) > 0 {
		// scancel returned: Slurm may still be ending the job, but it
		// must not be pending or running.
		for _, l := range left {
			if !strings.HasSuffix(l, " CG") {
				t.Errorf("after the second signal squeue shows %q", l)
			}
		}
	}
}
