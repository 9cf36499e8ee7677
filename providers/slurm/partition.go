package slurm

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Check asks Slurm, with one `scontrol show partition` bounded by
// cmd_timeout, whether the partition exists and can hold a block of
// nodes_per_block nodes. sbatch accepts a job larger than its partition and
// leaves it pending for ever (reason PartitionNodeLimit), so without this
// the run would wait on a block that can never start. A check that cannot
// run (scontrol missing, slow or failing for another reason) is logged and
// passes: sbatch still has its say.
func (p *Provider) Check(ctx context.Context) error {
	args := []string{"--oneliner", "show", "partition"}
	if p.cfg.Partition != "" {
		args = append(args, p.cfg.Partition)
	}
	stdout, stderr, err := p.command(ctx, "scontrol", p.clusterArgs(args...)...)
	if err != nil {
		// scontrol says "Partition x not found" on stdout.
		if said := strings.TrimSpace(stdout + "\n" + stderr); strings.Contains(said, "not found") {
			return fmt.Errorf("SlurmProvider: partition: got %q; scontrol says: %s; want a partition `sinfo` lists", p.cfg.Partition, said)
		}
		p.log.Warn("cannot check the partition's size; submitting anyway", "error", err)
		return nil
	}
	part, ok := pickPartition(parsePartitions(stdout), p.cfg.Partition)
	if !ok {
		p.log.Warn("scontrol did not describe the partition; submitting anyway", "partition", p.cfg.Partition)
		return nil
	}
	return part.fits(p.cfg.NodesPerBlock)
}

// partition is what scontrol says of one partition.
type partition struct {
	name       string
	isDefault  bool
	totalNodes int // TotalNodes
	maxNodes   int // MaxNodes per job; 0 is UNLIMITED
}

// parsePartitions reads `scontrol --oneliner show partition`: one
// partition per line, as Key=Value words.
func parsePartitions(out string) []partition {
	var parts []partition
	for _, line := range strings.Split(out, "\n") {
		kv := map[string]string{}
		for _, w := range strings.Fields(line) {
			if k, v, ok := strings.Cut(w, "="); ok {
				kv[k] = v
			}
		}
		name, ok := kv["PartitionName"]
		if !ok {
			continue
		}
		p := partition{name: name, isDefault: kv["Default"] == "YES"}
		p.totalNodes, _ = strconv.Atoi(kv["TotalNodes"])
		p.maxNodes, _ = strconv.Atoi(kv["MaxNodes"]) // UNLIMITED reads as 0
		parts = append(parts, p)
	}
	return parts
}

// pickPartition is the partition named, or the cluster's default when
// name is "".
func pickPartition(parts []partition, name string) (partition, bool) {
	for _, p := range parts {
		if (name == "" && p.isDefault) || (name != "" && p.name == name) {
			return p, true
		}
	}
	return partition{}, false
}

// fits refuses a block of n nodes the partition cannot run.
func (p partition) fits(n int) error {
	limit, why := p.totalNodes, fmt.Sprintf("has %d nodes", p.totalNodes)
	if p.maxNodes > 0 && p.maxNodes < limit {
		limit, why = p.maxNodes, fmt.Sprintf("allows at most %d nodes per job (MaxNodes)", p.maxNodes)
	}
	if limit > 0 && n > limit {
		return fmt.Errorf("SlurmProvider: nodes_per_block: got %d, but partition %q %s; want nodes_per_block <= %d",
			n, p.name, why, limit)
	}
	return nil
}
