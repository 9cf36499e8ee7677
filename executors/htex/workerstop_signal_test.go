package htex

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
)

// TestWorkerStopSignalLosesTries: a worker whose process is told to stop
// by a signal (its context cancelled with a *StopSignal, as `starflow
// worker` does on SIGTERM) says Bye at once and leaves the try it cancels
// unanswered, so the interchange fails it with ManagerLost, which the
// kernel retries for free, instead of with the runner's cancellation,
// which would spend a retry. The Bye goes out before the slot has wound
// down: the runner here returns only after the worker has left.
func TestWorkerStopSignalLosesTries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	running := make(chan struct{})
	release := make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock)
	r := runnerFunc(func(ctx context.Context, task *Task, env SlotEnv) *Result {
		close(running)
		<-ctx.Done()
		<-release
		return &Result{Err: &RemoteError{Kind: "Exception", Message: "bash app f cancelled: " + context.Cause(ctx).Error()}}
	})
	done := make(chan error, 1)
	go func() { done <- RunWorker(ctx, f.workerConfig("doomed", 1), r) }()
	fut := f.submit(callN(1))
	<-running
	stop := &StopSignal{Signal: syscall.SIGTERM}
	cancel(stop)
	_, err := wait(t, fut)
	if ml := asManagerLost(err); ml == nil || ml.BlockID != "doomed" {
		t.Fatalf("task of a worker stopped with SIGTERM: %v, want ManagerLost for block doomed", err)
	}
	unblock()
	if err := <-done; !errors.Is(err, stop) {
		t.Errorf("worker returned %v, want its stop signal", err)
	}
}

// TestGivenUp: which tries a worker leaves unanswered, given how they
// ended and whether its process is being stopped by a signal.
func TestGivenUp(t *testing.T) {
	t.Parallel()
	sigterm := &StopSignal{Signal: syscall.SIGTERM}
	killed := func(code string) *Result {
		return &Result{Err: &RemoteError{Kind: "BashExitFailure", Message: "bash app f failed with exit code " + code, Traceback: code}}
	}
	raised := &Result{Err: &RemoteError{Kind: "ValueError", Message: "bad input"}}
	tests := []struct {
		name  string
		cause error // the worker context's, nil: not cancelled
		res   *Result
		want  bool
	}{
		{"success while stopping is answered", sigterm, &Result{Value: []byte("v")}, false},
		{"app cancelled by the stop", sigterm, raised, true},
		{"bash child killed by the same SIGTERM", sigterm, killed("143"), true},
		{"app error, worker running", nil, raised, false},
		{"bash exit 1, worker running", nil, killed("1"), false},
		{"context ended for another reason", errors.New("the test is over"), raised, false},
		{"context ended for another reason, exit 143", errors.New("the test is over"), killed("143"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			proc, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			if tt.cause != nil {
				cancel(tt.cause)
			}
			if got := givenUp(proc, tt.res); got != tt.want {
				t.Errorf("givenUp(%v) = %v, want %v", tt.res.Err, got, tt.want)
			}
		})
	}
}

// TestGivenUpChildDiesFirst: Slurm signals every process of the job, so a
// bash app can die of the SIGTERM (exit 143) before the worker's own
// signal arrives. The failure waits for it and is then given up; with no
// stop coming, it is the app's failure after all.
func TestGivenUpChildDiesFirst(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"143", "130"} {
		t.Run("exit "+code, func(t *testing.T) {
			t.Parallel()
			res := &Result{Err: &RemoteError{Kind: "BashExitFailure", Message: "exit " + code, Traceback: code}}

			proc, cancel := context.WithCancelCause(context.Background())
			given := make(chan bool, 1)
			go func() { given <- givenUp(proc, res) }()
			cancel(&StopSignal{Signal: syscall.SIGTERM})
			if !<-given {
				t.Errorf("the worker's SIGTERM after the child's death: answered as the app's failure, want given up")
			}

			if givenUp(context.Background(), res) {
				t.Errorf("no stop coming: given up, want the app's own failure")
			}
		})
	}
}
