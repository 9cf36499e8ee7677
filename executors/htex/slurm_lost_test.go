package htex

import (
	"context"
	"strings"
	"testing"
)

// TestWorkerStoppedIsLost: a worker whose own process was told to stop
// (its Slurm block was cancelled or reached its walltime) answers the
// task it gave up with KindWorkerStopped. The try is lost with the
// worker, not failed by the app: ManagerLost, which the kernel retries
// without spending the task's retries.
func TestWorkerStoppedIsLost(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	fut := f.submit(callN(7))
	f.startWorker(t, f.workerConfig("doomed", 1), runnerFunc(func(context.Context, *Task, SlotEnv) *Result {
		return &Result{Err: &RemoteError{Kind: KindWorkerStopped, Message: "terminated signal received"}}
	}))
	_, err := wait(t, fut)
	ml := asManagerLost(err)
	if ml == nil || ml.BlockID != "doomed" || !strings.Contains(ml.Reason, "terminated signal received") {
		t.Fatalf("task given up by a stopping worker: %v, want ManagerLost for block doomed quoting why it stopped", err)
	}
	if !ml.ResourceLost() {
		t.Error("ManagerLost must be ResourceLost, so the kernel retries it for free")
	}
}
