package htex

import (
	"syscall"
	"testing"
)

// TestBlockLeft: a block whose workers all said goodbye left cleanly; one
// whose worker vanished did not; one with a worker still connected, or
// none ever, has not left at all. This is what judges a Slurm job that
// left squeue on a cluster without accounting.
func TestBlockLeft(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	check := func(block string, wantLeft, wantBye bool) {
		t.Helper()
		if left, bye := f.e.BlockLeft(block); left != wantLeft || bye != wantBye {
			t.Errorf("BlockLeft(%q) = (%v, %v), want (%v, %v)", block, left, bye, wantLeft, wantBye)
		}
	}
	check("never", false, false)

	// Two workers of one block, both drained: both say bye.
	a := f.startWorker(t, f.workerConfig("clean", 1), echoRunner{})
	b := f.startWorker(t, f.workerConfig("clean", 1), echoRunner{})
	eventually(t, "two workers registered", func() bool { return len(f.e.Managers()) == 2 })
	check("clean", false, false)
	f.e.DrainBlock("clean")
	for _, done := range []<-chan error{a, b} {
		if err := <-done; err != nil {
			t.Fatalf("drained worker: %v", err)
		}
	}
	eventually(t, "the drained workers gone", func() bool { return len(f.e.Managers()) == 0 })
	check("clean", true, true)

	// A worker process killed: no goodbye.
	child := f.startChild(t, f.workerConfig("killed", 1), 1)
	eventually(t, "the child registered", func() bool { return len(f.e.Managers()) == 1 })
	check("killed", false, false)
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the killed worker gone", func() bool { return len(f.e.Managers()) == 0 })
	check("killed", true, false)
}
