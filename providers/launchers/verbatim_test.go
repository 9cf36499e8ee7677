package launchers_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/providers/launchers"
)

// tricky is a command an unquoted heredoc would change while writing it:
// $HOME would be expanded by the batch script, not by the copy.
const tricky = `echo "copy on $SLURMD_NODENAME, home $HOME, it's"`

// mpiexecEnv is the environment the scripts run with: this process's,
// less anything that would make mpiexec think it runs in a batch job,
// plus what Open MPI needs on the test machine (testing/slurm/README.md).
func mpiexecEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLURM_") && !strings.HasPrefix(kv, "PBS_") {
			env = append(env, kv)
		}
	}
	return append(env, "OMPI_MCA_btl=tcp,self", "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
}

// TestMpiExecWritesCommandVerbatim runs MpiExecLauncher's script with the
// real mpiexec, outside any batch job (one host, localhost): the command
// file holds the command as written, and the copy expands it.
func TestMpiExecWritesCommandVerbatim(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("mpiexec"); err != nil {
		t.Skip("no mpiexec here; testing/slurm/up.sh installs Open MPI")
	}
	dir := t.TempDir()
	// The deadline only stops a hung mpiexec from hanging the test.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/bash", "-c", launchers.NewMpiExec().Wrap(tricky, 1, 1))
	cmd.Dir = dir
	cmd.Env = append(mpiexecEnv(), "JOBNAME=verbatim", "HOME=/home/of-the-copy", "SLURMD_NODENAME=here")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the script failed: %v\n%s", err, out)
	}
	written, err := os.ReadFile(filepath.Join(dir, "cmd_verbatim.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if string(written) != tricky+"\n" {
		t.Errorf("the command file holds\n%s\nwant the command as written:\n%s", written, tricky)
	}
	if want := "copy on here, home /home/of-the-copy, it's\n"; !strings.Contains(string(out), want) {
		t.Errorf("the copy printed\n%s\nwant a line %q", out, want)
	}
}
