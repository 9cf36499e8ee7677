package mpi_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/providers/launchers"
	"github.com/starflow-hpc/starflow/providers/slurm/slurmtest"
)

// TestMpiExecLauncherOnSlurm runs the script MpiExecLauncher writes in a
// real two-node sbatch job shaped as SlurmProvider shapes a block (one
// task per node, exclusive): mpiexec must start one copy of the command
// on each node of the job.
func TestMpiExecLauncherOnSlurm(t *testing.T) {
	slurmtest.Need(t)
	if _, err := exec.LookPath("mpiexec"); err != nil {
		t.Skip("no mpiexec here; testing/slurm/up.sh installs Open MPI")
	}
	dir := t.TempDir()
	// The command is written verbatim (quoted heredoc), so its variables
	// are read where each copy runs.
	wrapped := launchers.NewMpiExec().Wrap(`echo "copy on $SLURMD_NODENAME"`, 1, 2)
	script := "#!/bin/bash\n#SBATCH --nodes=2\n#SBATCH --ntasks-per-node=1\n#SBATCH --exclusive\n" +
		"export JOBNAME=mpiexec-launcher\n" +
		// What Open MPI needs on the test cluster: see testing/slurm/README.md.
		"export OMPI_MCA_btl=tcp,self OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n" + wrapped
	path := filepath.Join(dir, "block.submit")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// The deadline only stops a hung cluster from hanging the test.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := filepath.Join(dir, "block.out")
	cmd := exec.CommandContext(ctx, "sbatch", "--parsable", "--wait", "--chdir", dir, "--output", out, path)
	if b, err := cmd.CombinedOutput(); err != nil {
		if id, _, _ := strings.Cut(string(b), "\n"); id != "" {
			_ = exec.Command("scancel", strings.TrimSpace(id)).Run() // leave the cluster free
		}
		log, _ := os.ReadFile(out)
		t.Fatalf("sbatch: %v\n%s\njob output:\n%s\nscript:\n%s", err, b, log, script)
	}
	log, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var nodes []string
	for _, line := range strings.Split(string(log), "\n") {
		if n, ok := strings.CutPrefix(line, "copy on "); ok {
			nodes = append(nodes, n)
		}
	}
	slices.Sort(nodes)
	if len(nodes) != 2 || nodes[0] == nodes[1] || nodes[0] == "" {
		t.Errorf("copies ran on %v, want one on each of the job's two nodes\njob output:\n%s", nodes, log)
	}
}
