// Package launchers holds Parsl's launchers: each wraps a worker command
// into the shell lines that start tasks_per_node copies of it on each node
// of a block, so the scripts read like the ones a Parsl user already
// knows (the same variables, the same srun and mpiexec lines). Build them
// with the New functions, which apply Parsl's defaults.
package launchers

import (
	"fmt"
	"strings"
)

// SingleNode starts tasks_per_node × nodes_per_block copies of the command
// in the background on the node running the script and waits for them.
// The block fails when every copy failed or, with FailOnAny, when one did.
type SingleNode struct {
	Debug     bool // debug: echo what the script does
	FailOnAny bool // fail_on_any
}

// NewSingleNode is Parsl's SingleNodeLauncher().
func NewSingleNode() SingleNode { return SingleNode{Debug: true} }

// Wrap implements providers.Launcher.
func (l SingleNode) Wrap(command string, tasksPerNode, nodesPerBlock int) string {
	var w script
	w.line("set -e")
	w.line("export CORES=$(getconf _NPROCESSORS_ONLN)")
	w.debug(l.Debug, `echo "Found cores : $CORES"`)
	w.line("WORKERCOUNT=%d", tasksPerNode*nodesPerBlock)
	w.line("FAILONANY=%d", b2i(l.FailOnAny))
	w.line(`PIDS=""`)
	w.line("")
	// A function, so a multi-line command is one unit and each copy gets
	// its number as $1.
	w.line("CMD() {")
	w.line("%s", strings.TrimRight(command, "\n"))
	w.line("}")
	w.line("for COUNT in $(seq 1 1 $WORKERCOUNT); do")
	w.debug(l.Debug, `    echo "Launching worker: $COUNT"`)
	w.line("    CMD $COUNT &")
	w.line(`    PIDS="$PIDS $!"`)
	w.line("done")
	w.line("")
	w.line("ALLFAILED=1")
	w.line("ANYFAILED=0")
	// Parsl's "wait $PID" followed by a test of $? never reaches the test
	// under set -e: the first failed copy ends the script while the others
	// run on. The wait goes in the condition instead.
	w.line("for PID in $PIDS; do")
	w.line(`    if wait "$PID"; then`)
	w.line("        ALLFAILED=0")
	w.line("    else")
	w.line("        ANYFAILED=1")
	w.line("    fi")
	w.line("done")
	w.line("")
	w.debug(l.Debug, `echo "All workers done"`)
	w.line(`if [ "$FAILONANY" == "1" ]; then`)
	w.line("    exit $ANYFAILED")
	w.line("else")
	w.line("    exit $ALLFAILED")
	w.line("fi")
	return w.String()
}

// Simple runs the command as it is: one copy per block, whatever
// tasks_per_node and nodes_per_block say.
type Simple struct {
	Debug bool // debug
}

// NewSimple is Parsl's SimpleLauncher().
func NewSimple() Simple { return Simple{Debug: true} }

// Wrap implements providers.Launcher.
func (Simple) Wrap(command string, tasksPerNode, nodesPerBlock int) string { return command }

// Srun starts the copies as one Slurm job step across the block's nodes:
// srun --ntasks <tasks_per_node × nodes_per_block>. With Parsl's HTEX
// (tasks_per_node 1) that is one worker per node.
type Srun struct {
	Debug     bool   // debug
	Overrides string // overrides: extra srun arguments, e.g. "--mpi=none"
}

// NewSrun is Parsl's SrunLauncher().
func NewSrun() Srun { return Srun{Debug: true} }

// Wrap implements providers.Launcher.
func (l Srun) Wrap(command string, tasksPerNode, nodesPerBlock int) string {
	n := tasksPerNode * nodesPerBlock
	var w script
	w.line("set -e")
	w.line("export CORES=$SLURM_CPUS_ON_NODE")
	w.line("export NODES=$SLURM_JOB_NUM_NODES")
	w.line("")
	w.debug(l.Debug, `echo "Found cores : $CORES"`)
	w.debug(l.Debug, `echo "Found nodes : $NODES"`)
	w.line("WORKERCOUNT=%d", n)
	w.line("")
	// The step's script goes beside the job's stdout, as Parsl does.
	// SLURM_JOB_STDOUT exists from Slurm 23.02; older Slurm (Debian 12
	// ships 22.05) gets the job's working directory.
	w.line(`path_cmd=$(dirname "${SLURM_JOB_STDOUT:-$PWD/.}")`)
	w.line("")
	// A quoted delimiter, unlike Parsl's: the command is written as it
	// is, its $ and ` expanded by each copy where it runs.
	w.line(`cat << 'SLURM_EOF' > "$path_cmd/cmd_$SLURM_JOB_NAME.sh"`)
	w.line("%s", strings.TrimRight(command, "\n"))
	w.line("SLURM_EOF")
	w.line(`chmod a+x "$path_cmd/cmd_$SLURM_JOB_NAME.sh"`)
	w.line("")
	w.line("%s", words("srun", "--ntasks", fmt.Sprint(n), "-l", l.Overrides, "bash", `"$path_cmd/cmd_$SLURM_JOB_NAME.sh"`))
	w.line("")
	w.debug(l.Debug, `echo "Done"`)
	return w.String()
}

// MpiExec starts the copies with mpiexec over the block's nodes,
// tasks_per_node on each (one with HTEX), from a deduplicated host file.
type MpiExec struct {
	Debug     bool   // debug
	BindCmd   string // bind_cmd: the option that binds ranks to CPUs, given "none"
	Overrides string // overrides: extra mpiexec arguments, e.g. "--ppn 1"
}

// NewMpiExec is Parsl's MpiExecLauncher().
func NewMpiExec() MpiExec { return MpiExec{Debug: true, BindCmd: "--bind-to"} }

// Wrap implements providers.Launcher.
func (l MpiExec) Wrap(command string, tasksPerNode, nodesPerBlock int) string {
	var w script
	w.line("set -e")
	w.line("export CORES=$(getconf _NPROCESSORS_ONLN)")
	w.debug(l.Debug, `echo "Found cores : $CORES"`)
	w.line("WORKERCOUNT=%d", tasksPerNode*nodesPerBlock)
	w.line("")
	// Each host gets tasks_per_node slots in the host file. Without a
	// count, Hydra (MPICH) gives a host one slot, which spreads the copies
	// round-robin as Parsl means; but Open MPI inside a Slurm job takes
	// the job's tasks per node, and fills the first node before the next.
	// The two read different host file syntaxes.
	w.line("# Deduplicate the nodefile; tasks_per_node slots per host")
	w.line(`HOSTFILE="$JOBNAME.nodes"`)
	w.line(`if mpiexec --version 2>&1 | grep -qE "Open MPI|OpenRTE"; then`)
	w.line(`    SLOTS=" slots=%d"`, tasksPerNode)
	w.line("else")
	w.line(`    SLOTS=":%d"`, tasksPerNode)
	w.line("fi")
	// Parsl reads PBS's node file only, which inside a Slurm job would
	// put every copy on the first node; Slurm's node list comes second.
	w.line(`if [ -n "$PBS_NODEFILE" ]; then`)
	w.line(`    sort -u "$PBS_NODEFILE"`)
	w.line(`elif [ -n "$SLURM_JOB_NODELIST" ]; then`)
	w.line(`    scontrol show hostnames "$SLURM_JOB_NODELIST"`)
	w.line("else")
	w.line(`    echo "localhost"`)
	w.line(`fi | sed "s/\$/$SLOTS/" > "$HOSTFILE"`)
	w.line("")
	// A quoted delimiter: the command is written as it is, its $ and `
	// left for each copy to expand where it runs.
	w.line(`cat << 'MPIEXEC_EOF' > "cmd_$JOBNAME.sh"`)
	w.line("%s", strings.TrimRight(command, "\n"))
	w.line("MPIEXEC_EOF")
	w.line(`chmod u+x "cmd_$JOBNAME.sh"`)
	w.line("")
	bind := ""
	if l.BindCmd != "" {
		bind = l.BindCmd + " none"
	}
	w.line("%s", words("mpiexec", bind, l.Overrides, "-n", "$WORKERCOUNT", "--hostfile", `"$HOSTFILE"`, "/usr/bin/sh", `"cmd_$JOBNAME.sh"`))
	w.line("")
	w.debug(l.Debug, `echo "All workers done"`)
	return w.String()
}

// script accumulates lines of a generated shell script.
type script struct{ strings.Builder }

func (w *script) line(format string, args ...any) {
	fmt.Fprintf(&w.Builder, format, args...)
	w.WriteByte('\n')
}

// debug writes an echo line only when the launcher's debug is on, rather
// than Parsl's [[ "$debug" == "1" ]] test, so the script shows only what it
// does.
func (w *script) debug(on bool, line string) {
	if on {
		w.line("%s", line)
	}
}

// words joins the non-empty arguments with single spaces (an empty
// overrides leaves no double space).
func words(args ...string) string {
	kept := args[:0:0]
	for _, a := range args {
		if a = strings.TrimSpace(a); a != "" {
			kept = append(kept, a)
		}
	}
	return strings.Join(kept, " ")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
