// Package slurmtest holds what every test against the real Slurm cluster
// of testing/slurm/up.sh needs first: to know whether there is one.
package slurmtest

import (
	"os/exec"
	"strings"
	"testing"
)

// Need skips the test, saying how to get a cluster, unless a Slurm
// controller answers sinfo. .ci/run starts one, so in CI these tests run.
func Need(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("sinfo"); err != nil {
		t.Skip("no Slurm here (sinfo is not on PATH); start one with testing/slurm/up.sh")
	}
	if out, err := exec.Command("sinfo", "--noheader").CombinedOutput(); err != nil {
		t.Skipf("no Slurm controller answers (sinfo: %v: %s); start one with testing/slurm/up.sh", err, strings.TrimSpace(string(out)))
	}
}
