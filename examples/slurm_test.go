package examples_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/starflow-hpc/starflow/providers/slurm/slurmtest"
)

// needSlurm skips the test unless a Slurm controller answers.
func needSlurm(t *testing.T) { slurmtest.Need(t) }

// TestSlurmSweep runs the sweep on the real cluster of testing/slurm/up.sh:
// one sbatch job of two nodes, a worker on each started by srun, the
// sweep's answer, and no job left in squeue once starflow has exited.
func TestSlurmSweep(t *testing.T) {
	needSlurm(t)
	got, dir := runExample(t, "slurm_sweep.star")
	checkOutput(t, got, `
evaluated 125 configurations on Slurm
best: a=3 b=-2 c=5 (sse=1820.0)
`)
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	script := read("runinfo/000/submit_scripts/slurm_htex.block-0.submit")
	for _, want := range []string{"#SBATCH --nodes=2", "#SBATCH --partition=debug", "srun --ntasks 2 ", " worker "} {
		if !strings.Contains(script, want) {
			t.Errorf("the block's script lacks %q:\n%s", want, script)
		}
	}
	// srun started one worker per node, and both registered.
	log := read("runinfo/000/starflow.log")
	if n := strings.Count(log, "worker registered"); n != 2 {
		t.Errorf("%d workers registered, want one per node of the block (2)\n%s", n, log)
	}
	if nodes := strings.Fields(read("nodes.txt")); len(nodes) == 0 || len(nodes) > 2 {
		t.Errorf("tasks ran on nodes %v, want one or both of the block's two", nodes)
	}
	m := regexp.MustCompile(`job_id=(\d+)`).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("the log names no Slurm job:\n%s", log)
	}
	out, _ := exec.Command("squeue", "--noheader", "--format=%i %t", "--jobs="+m[1]).Output()
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("squeue still shows the block after starflow exited: %q", s)
	}
}
