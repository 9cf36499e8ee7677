package launchers_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/providers"
	"github.com/starflow-hpc/starflow/providers/launchers"
	"github.com/starflow-hpc/starflow/providers/slurm/slurmtest"
)

// needSlurm skips the test unless a Slurm controller answers.
func needSlurm(t *testing.T) { slurmtest.Need(t) }

// runJob runs body as a two-node batch job of tasksPerNode tasks on each
// node, and returns the job's output and the folder it ran in.
func runJob(t *testing.T, tasksPerNode int, body string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/bash\n#SBATCH --nodes=2\n#SBATCH --exclusive\n#SBATCH --time=2\n" +
		"#SBATCH --ntasks-per-node=" + strconv.Itoa(tasksPerNode) + "\n" +
		"export JOBNAME=launcher\n" +
		"export OMPI_MCA_btl=tcp,self OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n" + body
	path := filepath.Join(dir, "launcher.submit")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// The deadline only stops a hung cluster from hanging the test.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := filepath.Join(dir, "launcher.out")
	cmd := exec.CommandContext(ctx, "sbatch", "--parsable", "--wait", "--job-name=launcher", "--chdir", dir, "--output", out, path)
	b, err := cmd.CombinedOutput()
	if id, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n"); err != nil && id != "" {
		_ = exec.Command("scancel", strings.TrimSpace(id)).Run() // leave the cluster free
	}
	log, _ := os.ReadFile(out)
	if err != nil {
		t.Fatalf("sbatch: %v\n%s\njob output:\n%s\nscript:\n%s", err, b, log, script)
	}
	return string(log), dir
}

// copiesOn lists the nodes the copies of tricky said they ran on.
func copiesOn(log string) []string {
	var nodes []string
	for _, line := range strings.Split(log, "\n") {
		if _, rest, ok := strings.Cut(line, "copy on "); ok {
			node, _, _ := strings.Cut(rest, ",")
			nodes = append(nodes, node)
		}
	}
	slices.Sort(nodes)
	return nodes
}

// TestLaunchersOnSlurm runs the scripts of the launchers that spread
// copies over a block's nodes in real two-node jobs: one copy of the
// command on each node, written to its file as it was given.
func TestLaunchersOnSlurm(t *testing.T) {
	needSlurm(t)
	tests := []struct {
		name         string
		l            providers.Launcher
		tasksPerNode int // the job's, as scheduler_options may set it
		needs        string
		cmdFile      string
	}{
		// Open MPI would take the job's two tasks per node as two slots
		// and start both copies on the first node.
		{"MpiExecLauncher, two tasks per node", launchers.NewMpiExec(), 2, "mpiexec", "cmd_launcher.sh"},
		{"SrunLauncher", launchers.NewSrun(), 1, "srun", "cmd_launcher.sh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := exec.LookPath(tt.needs); err != nil {
				t.Skipf("no %s here; testing/slurm/up.sh installs it", tt.needs)
			}
			log, dir := runJob(t, tt.tasksPerNode, tt.l.Wrap(tricky, 1, 2))
			if nodes := copiesOn(log); len(nodes) != 2 || nodes[0] == nodes[1] {
				t.Errorf("copies ran on %v, want one on each of the job's two nodes\njob output:\n%s", nodes, log)
			}
			written, err := os.ReadFile(filepath.Join(dir, tt.cmdFile))
			if err != nil {
				t.Fatal(err)
			}
			if string(written) != tricky+"\n" {
				t.Errorf("the command file holds\n%s\nwant the command as written:\n%s", written, tricky)
			}
		})
	}
}
