package main

import (
	"strings"
	"testing"
)

// drainSlurm asks for blocks of one minute that drain 57 s before their
// walltime: block 0 takes tasks for about 3 s, then takes no new one, and
// the tasks that keep coming go to block 1, started in its place.
const drainSlurm = `
import time
ex = HighThroughputExecutor(label = "h", max_workers_per_node = 1, drain_period = 57,
    provider = SlurmProvider(partition = "debug", exclusive = False, walltime = "00:01:00",
                             init_blocks = 1, min_blocks = 0, max_blocks = 1))
parsl.load(Config(executors = [ex], retries = 0, strategy_period = 1))

@python_app
def where():
    import os
    return os.getenv("PARSL_WORKER_BLOCK_ID")

blocks = []
while "1" not in blocks:
    b = where().result()
    if b not in blocks:
        blocks.append(b)
    time.sleep(0.1)
print(blocks)
`

// TestSlurmDrainPeriod: drain_period makes a block stop taking tasks that
// long before its walltime, and the work goes on on a new block, without a
// task lost or failed.
func TestSlurmDrainPeriod(t *testing.T) {
	r := slurmBG(t, drainSlurm)
	if code := r.exitCode(t, 6*hangLimit); code != 0 {
		t.Fatalf("exit status %d\n%s", code, r.describe(t))
	}
	if got := readFile(t, r.path("stdout")); got != "['0', '1']\n" {
		t.Errorf("stdout = %q, want block 0's tasks, then block 1's", got)
	}
	log := r.log()
	if !strings.Contains(log, "block draining before its walltime") {
		t.Errorf("the log does not show block 0 draining\n%s", log)
	}
	if strings.Contains(log, "manager lost") || strings.Contains(log, "failed=1") {
		t.Errorf("a task was lost or failed while the block drained\n%s", log)
	}
	noJobsLeft(t, r)
}
