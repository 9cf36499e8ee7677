package launchers_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/starflow-hpc/starflow/providers"
	"github.com/starflow-hpc/starflow/providers/launchers"
)

var (
	_ providers.Launcher = launchers.SingleNode{}
	_ providers.Launcher = launchers.Simple{}
	_ providers.Launcher = launchers.Srun{}
	_ providers.Launcher = launchers.MpiExec{}
)

// The whole scripts for Parsl's defaults, with Parsl's debug lines.
const (
	singleNodeScript = `set -e
export CORES=$(getconf _NPROCESSORS_ONLN)
echo "Found cores : $CORES"
WORKERCOUNT=6
FAILONANY=0
PIDS=""

CMD() {
starflow worker --block 0
}
for COUNT in $(seq 1 1 $WORKERCOUNT); do
    echo "Launching worker: $COUNT"
    CMD $COUNT &
    PIDS="$PIDS $!"
done

ALLFAILED=1
ANYFAILED=0
for PID in $PIDS; do
    if wait "$PID"; then
        ALLFAILED=0
    else
        ANYFAILED=1
    fi
done

echo "All workers done"
if [ "$FAILONANY" == "1" ]; then
    exit $ANYFAILED
else
    exit $ALLFAILED
fi
`
	srunScript = `set -e
export CORES=$SLURM_CPUS_ON_NODE
export NODES=$SLURM_JOB_NUM_NODES

echo "Found cores : $CORES"
echo "Found nodes : $NODES"
WORKERCOUNT=3

path_cmd=$(dirname "${SLURM_JOB_STDOUT:-$PWD/.}")

cat << 'SLURM_EOF' > "$path_cmd/cmd_$SLURM_JOB_NAME.sh"
starflow worker --block 0
SLURM_EOF
chmod a+x "$path_cmd/cmd_$SLURM_JOB_NAME.sh"

srun --ntasks 3 -l bash "$path_cmd/cmd_$SLURM_JOB_NAME.sh"

echo "Done"
`
	mpiExecScript = `set -e
export CORES=$(getconf _NPROCESSORS_ONLN)
echo "Found cores : $CORES"
WORKERCOUNT=2

# Deduplicate the nodefile; tasks_per_node slots per host
HOSTFILE="$JOBNAME.nodes"
if mpiexec --version 2>&1 | grep -qE "Open MPI|OpenRTE"; then
    SLOTS=" slots=1"
else
    SLOTS=":1"
fi
if [ -n "$PBS_NODEFILE" ]; then
    sort -u "$PBS_NODEFILE"
elif [ -n "$SLURM_JOB_NODELIST" ]; then
    scontrol show hostnames "$SLURM_JOB_NODELIST"
else
    echo "localhost"
fi | sed "s/\$/$SLOTS/" > "$HOSTFILE"

cat << 'MPIEXEC_EOF' > "cmd_$JOBNAME.sh"
starflow worker --block 0
MPIEXEC_EOF
chmod u+x "cmd_$JOBNAME.sh"

mpiexec --bind-to none -n $WORKERCOUNT --hostfile "$HOSTFILE" /usr/bin/sh "cmd_$JOBNAME.sh"

echo "All workers done"
`
)

func TestWrapWholeScripts(t *testing.T) {
	t.Parallel()
	const cmd = "starflow worker --block 0"
	tests := []struct {
		name     string
		l        providers.Launcher
		tpn, npb int
		want     string
	}{
		{"SingleNodeLauncher()", launchers.NewSingleNode(), 2, 3, singleNodeScript},
		{"SrunLauncher()", launchers.NewSrun(), 1, 3, srunScript},
		{"MpiExecLauncher()", launchers.NewMpiExec(), 1, 2, mpiExecScript},
		{"SimpleLauncher()", launchers.NewSimple(), 4, 2, cmd},
	}
	for _, tt := range tests {
		got := tt.l.Wrap(cmd, tt.tpn, tt.npb)
		if got != tt.want {
			t.Errorf("%s.Wrap(%q, %d, %d):\ngot:\n%s\nwant:\n%s", tt.name, cmd, tt.tpn, tt.npb, got, tt.want)
		}
		if out, err := exec.Command("/bin/bash", "-n", "-c", got).CombinedOutput(); err != nil {
			t.Errorf("%s: bash -n: %v: %s", tt.name, err, out)
		}
	}
}

// TestWrapLines checks the lines that vary with the parameters, each
// against the line Parsl's template produces for them.
func TestWrapLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		l        providers.Launcher
		tpn, npb int
		has      []string
		hasNot   []string
	}{
		{"single node counts copies over nodes", launchers.NewSingleNode(), 4, 1,
			[]string{"WORKERCOUNT=4\n", "FAILONANY=0\n"}, nil},
		{"single node fail_on_any", launchers.SingleNode{Debug: true, FailOnAny: true}, 1, 1,
			[]string{"FAILONANY=1\n"}, nil},
		{"single node debug off", launchers.SingleNode{}, 1, 1,
			[]string{"CMD $COUNT &\n"}, []string{"echo \"Found cores", "echo \"Launching worker", "All workers done"}},
		{"srun tasks × nodes", launchers.NewSrun(), 2, 4,
			[]string{"WORKERCOUNT=8\n", "\nsrun --ntasks 8 -l bash \"$path_cmd/cmd_$SLURM_JOB_NAME.sh\"\n"}, nil},
		{"srun overrides", launchers.Srun{Debug: true, Overrides: "--mpi=none --cpu-bind=none"}, 1, 2,
			[]string{"\nsrun --ntasks 2 -l --mpi=none --cpu-bind=none bash \"$path_cmd/cmd_$SLURM_JOB_NAME.sh\"\n"}, nil},
		{"srun debug off", launchers.Srun{}, 1, 1, nil, []string{"echo"}},
		{"mpiexec bind_cmd and overrides", launchers.MpiExec{Debug: true, BindCmd: "--cpu-bind", Overrides: "--depth=64 --ppn 1"}, 1, 4,
			[]string{"WORKERCOUNT=4\n", `SLOTS=" slots=1"`, "\nmpiexec --cpu-bind none --depth=64 --ppn 1 -n $WORKERCOUNT --hostfile \"$HOSTFILE\" /usr/bin/sh \"cmd_$JOBNAME.sh\"\n"}, nil},
		{"mpiexec tasks_per_node slots per host", launchers.NewMpiExec(), 3, 2,
			[]string{"WORKERCOUNT=6\n", `SLOTS=" slots=3"`, `SLOTS=":3"`}, nil},
		{"mpiexec without bind_cmd", launchers.MpiExec{}, 1, 1,
			[]string{"\nmpiexec -n $WORKERCOUNT --hostfile"}, []string{"none", "echo \"Found"}},
	}
	for _, tt := range tests {
		got := tt.l.Wrap("starflow worker", tt.tpn, tt.npb)
		for _, s := range tt.has {
			if !strings.Contains(got, s) {
				t.Errorf("%s: script lacks %q:\n%s", tt.name, s, got)
			}
		}
		for _, s := range tt.hasNot {
			if strings.Contains(got, s) {
				t.Errorf("%s: script has %q:\n%s", tt.name, s, got)
			}
		}
	}
}

// TestSingleNodeRuns runs the script: every copy starts with its number,
// and the exit code follows fail_on_any when some copies fail.
func TestSingleNodeRuns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		failOnAny bool
		fail      string // copies whose number is listed exit 1
		wantCode  int
	}{
		{"all succeed", false, "", 0},
		{"one fails", false, "2", 0},
		{"one fails, fail_on_any", true, "2", 1},
		{"all fail", false, "1 2 3", 1},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		command := `echo "$1" > "` + dir + `/copy.$1"; case " $FAIL " in *" $1 "*) exit 1;; esac`
		script := launchers.SingleNode{FailOnAny: tt.failOnAny}.Wrap(command, 3, 1)
		cmd := exec.Command("/bin/bash", "-c", script)
		cmd.Env = append(os.Environ(), "FAIL="+tt.fail)
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.wantCode {
			t.Errorf("%s: exit code %d, want %d", tt.name, code, tt.wantCode)
		}
		copies, _ := filepath.Glob(filepath.Join(dir, "copy.*"))
		if len(copies) != 3 {
			t.Errorf("%s: %d copies ran, want 3: %v", tt.name, len(copies), copies)
		}
	}
}
