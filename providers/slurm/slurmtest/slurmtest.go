// Package slurmtest holds what every test against the real Slurm cluster
// of testing/slurm/up.sh needs first: to know whether there is one.
package slurmtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// RequireEnv names the variable .ci/run sets once it has started the
// cluster: with it set, a cluster that does not answer fails the test
// instead of skipping it, so a cluster that died part-way through CI
// cannot turn the Slurm tests into passing skips.
const RequireEnv = "STARFLOW_REQUIRE_SLURM"

// Need skips the test, saying how to get a cluster, unless a Slurm
// controller answers sinfo; under RequireEnv it fails instead.
func Need(t testing.TB) {
	t.Helper()
	miss := t.Skipf
	if os.Getenv(RequireEnv) != "" {
		miss = t.Fatalf
	}
	if _, err := exec.LookPath("sinfo"); err != nil {
		miss("no Slurm here (sinfo is not on PATH); start one with testing/slurm/up.sh")
	}
	if out, err := exec.Command("sinfo", "--noheader").CombinedOutput(); err != nil {
		miss("no Slurm controller answers (sinfo: %v: %s); start one with testing/slurm/up.sh", err, strings.TrimSpace(string(out)))
	}
}
