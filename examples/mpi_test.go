package examples_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestMPIPipeline runs mpi_pipeline.star on the real cluster of
// testing/slurm/up.sh with each launcher: a real MPI program, compiled
// here with mpicc, sums each input on 2 nodes × 2 ranks started by
// $PARSL_MPI_PREFIX inside the MPIExecutor's sbatch job. The ranks' own
// lines must show 4 ranks, 2 on each of 2 distinct Slurm nodes, agreeing
// on the total (so they talked across nodes).
func TestMPIPipeline(t *testing.T) {
	needSlurm(t)
	if _, err := exec.LookPath("mpicc"); err != nil {
		t.Skip("no MPI compiler here (mpicc is not on PATH); testing/slurm/up.sh installs Open MPI")
	}
	program := filepath.Join(t.TempDir(), "sum_ranks")
	if out, err := exec.Command("mpicc", "-O2", "-o", program, filepath.Join("testdata", "mpi", "sum_ranks.c")).CombinedOutput(); err != nil {
		t.Fatalf("mpicc: %v\n%s", err, out)
	}
	// One launcher after the other: each run takes two of the cluster's
	// three nodes.
	for _, launcher := range []string{"srun", "mpiexec"} {
		t.Run(launcher, func(t *testing.T) {
			got, dir := runExample(t, "mpi_pipeline.star", program, launcher)
			checkOutput(t, got, `
100 numbers: 4 ranks on 2 nodes (2+2), total 338350, ok
250 numbers: 4 ranks on 2 nodes (2+2), total 5239625, ok
`)
			for i, total := range []string{"338350", "5239625"} {
				checkRanks(t, filepath.Join(dir, "mpi_out", "ranks_"+strconv.Itoa(i)+".txt"), total)
			}
			b, err := os.ReadFile(filepath.Join(dir, "runinfo", "000", "submit_scripts", "mpi.block-0.submit"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"#SBATCH --nodes=2", " worker ", "--mpi-launcher " + launcher} {
				if !strings.Contains(string(b), want) {
					t.Errorf("the block's script lacks %q:\n%s", want, b)
				}
			}
		})
	}
}

var rankLine = regexp.MustCompile(`^rank (\d+) of 4 on (n\d+) partial \d+ total (\d+)$`)

// checkRanks reads what the ranks of one task printed.
func checkRanks(t *testing.T, path, total string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ranks, perNode := map[string]bool{}, map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		m := rankLine.FindStringSubmatch(line)
		if m == nil || m[3] != total {
			t.Errorf("%s: line %q, want rank R of 4 on nN partial P total %s", path, line, total)
			continue
		}
		ranks[m[1]] = true
		perNode[m[2]]++
	}
	if len(ranks) != 4 || len(perNode) != 2 {
		t.Errorf("%s: ranks %v on nodes %v, want ranks 0-3 on 2 distinct nodes\n%s", path, ranks, perNode, b)
	}
	for node, n := range perNode {
		if n != 2 {
			t.Errorf("%s: %d ranks on %s, want 2 per node\n%s", path, n, node, b)
		}
	}
}
