package slurm

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/starflow-hpc/starflow/providers"
)

// ScriptPath is where a block's submit script is written:
// <Dir>/<label>.block-<id>.submit, beside its .stdout and .stderr.
func ScriptPath(b providers.Block) string { return filepath.Join(b.Dir, b.Name()+".submit") }

// Script is the block's submit script: the #SBATCH header, then what
// providers.BlockScript writes (worker_init and the launcher line). It is
// complete, so `sbatch <file>` by hand starts the same block. The header
// follows Parsl's SlurmProvider, with scheduler_options last so that a
// line there overrides one starflow wrote (sbatch keeps the last
// occurrence of an option).
func (c Config) Script(b providers.Block) string {
	var w strings.Builder
	opt := func(format string, args ...any) { fmt.Fprintf(&w, "#SBATCH "+format+"\n", args...) }
	w.WriteString("#!/bin/bash\n\n")
	opt("--job-name=%s", b.Name())
	opt("--output=%s", b.StdoutPath())
	opt("--error=%s", b.StderrPath())
	// sbatch would otherwise start the job where starflow runs; the
	// Block contract says the worker runs in its submit_scripts folder.
	opt("--chdir=%s", b.Dir)
	opt("--nodes=%d", max(c.NodesPerBlock, 1))
	if c.Walltime > 0 {
		opt("--time=%s", providers.FormatWalltime(c.Walltime))
	}
	opt("--ntasks-per-node=%d", b.Tasks())
	if c.Exclusive {
		opt("--exclusive")
	}
	for _, o := range []struct{ flag, value string }{
		{"partition", c.Partition}, {"account", c.Account}, {"qos", c.QOS},
		{"constraint", c.Constraint}, {"clusters", c.Clusters},
	} {
		if o.value != "" {
			opt("--%s=%s", o.flag, o.value)
		}
	}
	if c.MemPerNode > 0 {
		opt("--mem=%dg", c.MemPerNode)
	}
	cpus := c.cpusPerTask(b)
	if cpus > 0 {
		opt("--cpus-per-task=%d", cpus)
	}
	if so := strings.TrimSpace(c.SchedulerOptions); so != "" {
		w.WriteString(so + "\n")
	}
	w.WriteString("\n")
	// Parsl exports what was asked for, so workers size themselves to the
	// allocation rather than to the whole node.
	if c.MemPerNode > 0 {
		fmt.Fprintf(&w, "export PARSL_MEMORY_GB=%d\n", c.MemPerNode)
	}
	if cpus > 0 {
		fmt.Fprintf(&w, "export PARSL_CORES=%d\n", cpus)
	}
	w.WriteString(providers.BlockScript(b, c.Settings))
	return w.String()
}

// cpusPerTask is Parsl's floor(cores_per_node / tasks_per_node), at least
// 1; 0 when cores_per_node is not set.
func (c Config) cpusPerTask(b providers.Block) int {
	if c.CoresPerNode <= 0 {
		return 0
	}
	return max(c.CoresPerNode/b.Tasks(), 1)
}
