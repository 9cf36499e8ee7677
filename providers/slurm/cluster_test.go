package slurm

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/providers"
	"github.com/starflow-hpc/starflow/providers/launchers"
	"github.com/starflow-hpc/starflow/providers/slurm/slurmtest"
)

// clusterProvider returns a provider on the real cluster of
// testing/slurm/up.sh, or skips the test when there is none.
func clusterProvider(t *testing.T, edit func(*Config)) *Provider {
	t.Helper()
	slurmtest.Need(t)
	cfg := Defaults()
	cfg.Partition = "debug"
	cfg.Exclusive = false
	cfg.Walltime = 2 * time.Minute
	cfg.Launcher = launchers.NewSimple()
	if edit != nil {
		edit(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClusterSubmitStatusCancel(t *testing.T) {
	p := clusterProvider(t, nil)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "submit_scripts")
	var ids []string
	for i := range 2 {
		id, err := p.Submit(ctx, providers.Block{ID: i, Label: "slurmtest", Command: "sleep 30", Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	t.Cleanup(func() { p.Cancel(context.Background(), ids) })

	st, err := p.Status(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if s := st[id].State; s != providers.Pending && s != providers.Running {
			t.Errorf("job %s just submitted: %v, want PENDING or RUNNING", id, st[id])
		}
	}

	if err := p.Cancel(ctx, ids); err != nil {
		t.Fatal(err)
	}
	// Cancelled or gone from squeue, never Completed; the test's
	// deadline bounds the wait for Slurm to finish the cancellation.
	for {
		st, err = p.Status(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if st[ids[0]].State == providers.Cancelled && st[ids[1]].State == providers.Cancelled {
			break
		}
		for _, id := range ids {
			if s := st[id].State; s != providers.Pending && s != providers.Running && s != providers.Completing && s != providers.Cancelled {
				t.Fatalf("job %s after scancel: %v, want CANCELLED", id, st[id])
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, _ := exec.Command("squeue", "--noheader", "--format=%i %t", "--jobs="+strings.Join(ids, ",")).Output()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[1] != "CA" {
			t.Errorf("squeue after cancel lists %q", line)
		}
	}
}

func TestClusterRefusesUnknownPartition(t *testing.T) {
	p := clusterProvider(t, func(c *Config) { c.Partition = "no_such_partition" })
	_, err := p.Submit(context.Background(), providers.Block{ID: 0, Label: "slurmtest", Command: "true", Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "Invalid partition name specified") {
		t.Errorf("Submit error %v, want one quoting Slurm's \"Invalid partition name specified\"", err)
	}
}

func TestClusterCheckPartition(t *testing.T) {
	ctx := context.Background()
	if err := clusterProvider(t, func(c *Config) { c.NodesPerBlock = 3 }).Check(ctx); err != nil {
		t.Errorf("3 nodes on the 3-node debug partition: %v", err)
	}
	err := clusterProvider(t, func(c *Config) { c.NodesPerBlock = 4 }).Check(ctx)
	if err == nil || !strings.Contains(err.Error(), `nodes_per_block: got 4, but partition "debug" has 3 nodes`) {
		t.Errorf("4 nodes on the 3-node debug partition: %v, want the nodes_per_block error", err)
	}
	err = clusterProvider(t, func(c *Config) { c.Partition = "no_such_partition" }).Check(ctx)
	if err == nil || !strings.Contains(err.Error(), "Partition no_such_partition not found") {
		t.Errorf("unknown partition: %v, want one quoting scontrol", err)
	}
}
