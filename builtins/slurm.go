package builtins

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/providers"
	"github.com/starflow-hpc/starflow/providers/slurm"
)

// SlurmProvider is Parsl's SlurmProvider as a script value: each block is
// one sbatch job (see providers/slurm).
type SlurmProvider struct {
	cfg slurm.Config // Runner and Logger unset
	// runner replaces sbatch, squeue and scancel in tests of this package.
	runner slurm.Runner
}

var (
	_ providerValue     = (*SlurmProvider)(nil)
	_ starlark.HasAttrs = (*SlurmProvider)(nil)
)

// slurmMinPoll is the least time between two squeue calls of one
// executor. Parsl's HTEX polls every poll_period (10 ms); squeue answers
// for the whole cluster's controller, so a script that copies Parsl's
// value must not turn into a hundred squeue calls a second.
const slurmMinPoll = time.Second

func (p *SlurmProvider) blockSettings() providers.Settings { return p.cfg.Settings }
func (p *SlurmProvider) remote() bool                      { return true }
func (p *SlurmProvider) minPoll() time.Duration            { return slurmMinPoll }

// start makes the provider and checks that the partition can hold a block
// (one scontrol call bounded by cmd_timeout): sbatch would accept a block
// larger than the partition and leave it pending for ever.
func (p *SlurmProvider) start(ctx context.Context, host providerHost) (providers.Provider, error) {
	cfg := p.cfg
	cfg.Logger, cfg.Runner, cfg.Jobs = host.log, p.runner, host.slurmJobs
	prov, err := slurm.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := prov.Check(ctx); err != nil {
		return nil, err
	}
	return prov, nil
}

func (p *SlurmProvider) String() string {
	c := p.cfg
	return fmt.Sprintf("SlurmProvider(partition=%q, nodes_per_block=%d, init_blocks=%d, min_blocks=%d, max_blocks=%d, walltime=%q)",
		c.Partition, c.NodesPerBlock, c.InitBlocks, c.MinBlocks, c.MaxBlocks, providers.FormatWalltime(c.Walltime))
}
func (p *SlurmProvider) Type() string          { return "SlurmProvider" }
func (p *SlurmProvider) Freeze()               {}
func (p *SlurmProvider) Truth() starlark.Bool  { return true }
func (p *SlurmProvider) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: SlurmProvider") }

var slurmAttrs = func() []string {
	names := []string{"account", "clusters", "cmd_timeout", "constraint", "cores_per_node", "exclusive",
		"init_blocks", "max_blocks", "mem_per_node", "min_blocks", "nodes_per_block", "parallelism",
		"partition", "qos", "regex_job_id", "scheduler_options", "walltime", "worker_init"}
	sort.Strings(names)
	return names
}()

func (p *SlurmProvider) AttrNames() []string { return slurmAttrs }

func (p *SlurmProvider) Attr(name string) (starlark.Value, error) {
	c := p.cfg
	if v := settingsAttr(c.Settings, name); v != nil {
		return v, nil
	}
	noneIfEmpty := func(s string) starlark.Value {
		if s == "" {
			return starlark.None
		}
		return starlark.String(s)
	}
	noneIfZero := func(n int) starlark.Value {
		if n == 0 {
			return starlark.None
		}
		return starlark.MakeInt(n)
	}
	switch name {
	case "partition":
		return noneIfEmpty(c.Partition), nil
	case "account":
		return noneIfEmpty(c.Account), nil
	case "qos":
		return noneIfEmpty(c.QOS), nil
	case "constraint":
		return noneIfEmpty(c.Constraint), nil
	case "clusters":
		return noneIfEmpty(c.Clusters), nil
	case "cores_per_node":
		return noneIfZero(c.CoresPerNode), nil
	case "mem_per_node":
		return noneIfZero(c.MemPerNode), nil
	case "exclusive":
		return starlark.Bool(c.Exclusive), nil
	case "scheduler_options":
		return starlark.String(c.SchedulerOptions), nil
	case "regex_job_id":
		return starlark.String(c.RegexJobID), nil
	}
	return nil, nil
}

// newSlurmProvider is SlurmProvider(...) with Parsl's parameters, in
// Parsl's positional order, and its defaults (slurm.Defaults). Every
// parameter is checked here, so that a wrong one fails at the line that
// wrote it; whether the partition can hold nodes_per_block nodes is asked
// of Slurm when the executor starts.
func newSlurmProvider(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	cfg := slurm.Defaults()
	s := &cfg.Settings
	a := newBlockArgs()
	var (
		partition, account, qos, constraint, clusters starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None, starlark.None
		coresPerNode, memPerNode, regexJobID          starlark.Value = starlark.None, starlark.None, starlark.None
		channel                                       starlark.Value
	)
	if err := unpackArgs(b.Name(), args, kwargs,
		"partition?", &partition, "account?", &account, "qos?", &qos, "constraint?", &constraint,
		"clusters?", &clusters, "nodes_per_block?", &s.NodesPerBlock, "cores_per_node?", &coresPerNode,
		"mem_per_node?", &memPerNode, "init_blocks?", &s.InitBlocks, "min_blocks?", &s.MinBlocks,
		"max_blocks?", &s.MaxBlocks, "parallelism?", &a.parallelism, "walltime?", &a.walltime,
		"scheduler_options?", &cfg.SchedulerOptions, "regex_job_id?", &regexJobID,
		"worker_init?", &s.WorkerInit, "cmd_timeout?", &a.cmdTimeout, "exclusive?", &cfg.Exclusive,
		"launcher?", &a.launcher, "move_files?", &a.moveFiles, "channel?", &channel); err != nil {
		return nil, err
	}
	if err := a.apply(b.Name(), s, &cfg.MoveFiles); err != nil {
		return nil, err
	}
	for _, o := range []struct {
		name string
		v    starlark.Value
		dst  *string
	}{{"partition", partition, &cfg.Partition}, {"account", account, &cfg.Account}, {"qos", qos, &cfg.QOS},
		{"constraint", constraint, &cfg.Constraint}, {"clusters", clusters, &cfg.Clusters},
		{"regex_job_id", regexJobID, &cfg.RegexJobID}} {
		v, err := optString(b.Name(), o.name, o.v)
		if err != nil {
			return nil, err
		}
		if v != "" {
			*o.dst = v
		}
	}
	var err error
	if s.CoresPerNode, err = optCount(b.Name(), "cores_per_node", coresPerNode); err != nil {
		return nil, err
	}
	if s.MemPerNode, err = optCount(b.Name(), "mem_per_node", memPerNode); err != nil {
		return nil, err
	}
	// slurm.New checks everything the way the provider will use it; its
	// errors start with "SlurmProvider: " already.
	if _, err := slurm.New(cfg); err != nil {
		return nil, err
	}
	return &SlurmProvider{cfg: cfg}, nil
}

// optCount reads an int >= 1 or None (0).
func optCount(fn, param string, v starlark.Value) (int, error) {
	if v == starlark.None {
		return 0, nil
	}
	if n, ok := v.(starlark.Int); ok {
		if x, ok := n.Int64(); ok && x >= 1 && x <= 1<<31 {
			return int(x), nil
		}
	}
	return 0, fmt.Errorf("%s: for parameter %s: got %s, want an integer >= 1 or None", fn, param, v.String())
}
