package slurm

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/starflow-hpc/starflow/providers"
)

const twoPartitions = "PartitionName=debug Default=YES MaxNodes=UNLIMITED State=UP TotalCPUs=6 TotalNodes=3\n" +
	"PartitionName=big Default=NO MaxNodes=8 State=UP TotalNodes=64\n"

func TestCheckPartition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		partition string
		nodes     int
		scontrol  answer
		want      string // "" for no error
	}{
		{"fits", "debug", 3, answer{stdout: twoPartitions}, ""},
		{"default partition", "", 3, answer{stdout: twoPartitions}, ""},
		{"too many nodes", "debug", 4, answer{stdout: twoPartitions},
			`SlurmProvider: nodes_per_block: got 4, but partition "debug" has 3 nodes; want nodes_per_block <= 3`},
		{"too many for the default", "", 5, answer{stdout: twoPartitions}, `partition "debug" has 3 nodes`},
		{"MaxNodes", "big", 9, answer{stdout: twoPartitions},
			`nodes_per_block: got 9, but partition "big" allows at most 8 nodes per job (MaxNodes); want nodes_per_block <= 8`},
		{"unknown partition", "nosuch", 1, answer{stdout: "Partition nosuch not found\n", err: errors.New("exit status 1")},
			`SlurmProvider: partition: got "nosuch"; scontrol says: Partition nosuch not found; want a partition`},
		// A check that cannot run lets sbatch decide.
		{"scontrol fails", "debug", 4, answer{stderr: "slurm_load_partitions: Unable to contact slurm controller", err: errors.New("exit status 1")}, ""},
		{"scontrol hangs", "debug", 4, answer{hang: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, f := newFake(t, map[string]answer{"scontrol": tt.scontrol}, func(c *Config) {
				c.Partition, c.NodesPerBlock, c.MaxBlocks = tt.partition, tt.nodes, 1
				c.CmdTimeout = 50e6 // 50 ms: the hang must not hold the test
			})
			err := p.Check(context.Background())
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Check() = %v, want %q", err, tt.want)
			}
			if len(f.calls) != 1 || !strings.HasPrefix(f.calls[0], "scontrol --oneliner show partition") {
				t.Errorf("calls %q, want one scontrol show partition", f.calls)
			}
		})
	}
}

func TestCancelAllLive(t *testing.T) {
	t.Parallel()
	jobs := NewJobs()
	p, _ := newFake(t, map[string]answer{"sbatch": {stdout: "Submitted batch job 901\n"}}, func(c *Config) { c.Jobs = jobs })
	q, _ := newFake(t, map[string]answer{"sbatch": {stdout: "Submitted batch job 902\n"}}, func(c *Config) { c.Clusters, c.Jobs = "c2", jobs })
	ctx := context.Background()
	for _, pr := range []*Provider{p, q} {
		if _, err := pr.Submit(ctx, providers.Block{Label: "live", Command: "w", Dir: t.TempDir()}); err != nil {
			t.Fatal(err)
		}
	}
	if got := jobs.Live(); !slices.Equal(got, []string{"901", "902"}) {
		t.Fatalf("Live() = %v, want [901 902]", got)
	}
	f := &fakeRunner{}
	if err := jobs.CancelAll(ctx, f); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(f.calls, "scancel 901") || !slices.Contains(f.calls, "scancel --clusters=c2 902") {
		t.Errorf("scancel calls %q, want one per cluster, 902 with --clusters=c2", f.calls)
	}
	if got := jobs.Live(); len(got) != 0 {
		t.Errorf("Live() after CancelAll = %v", got)
	}
}
