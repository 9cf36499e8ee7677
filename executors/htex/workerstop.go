package htex

import (
	"context"
	"errors"
	"os"
	"strconv"
	"syscall"
	"time"
)

// StopSignal is the cause to cancel a worker's context with when the
// worker's own process is told to stop by a signal: the batch system
// ending its block (scancel, walltime, preemption) or a Ctrl-C. Losing
// the block is not the tasks' fault, so the worker then leaves at once:
// it sends the results it has and Bye, and leaves unanswered the tries
// it gives up, which the interchange counts lost with it (ManagerLost,
// retried without spending the task's retries). Said early, the Bye
// also keeps the interchange from sending this worker more tasks while
// its slots wind down. Any other cause keeps the runner's answers.
type StopSignal struct {
	Signal os.Signal
}

func (s *StopSignal) Error() string {
	if s.Signal == nil {
		return "stop signal received"
	}
	return s.Signal.String() + " signal received"
}

// stopGrace is how long a try whose bash child died of SIGTERM or SIGINT
// waits, before its failure is sent, for the worker to learn that its own
// process got the same signal. A batch system signals every process of
// the job at once, so the child may die, and be reaped, before the
// worker's own signal reaches the context; the try is then lost with the
// block, not failed by its app. Only such failures wait: an app that
// really kills itself with SIGTERM is reported this much later.
const stopGrace = 2 * time.Second

// stopping reports whether the worker's process is being stopped by a
// signal (proc was cancelled with a *StopSignal).
func stopping(proc context.Context) bool {
	var s *StopSignal
	return proc.Err() != nil && errors.As(context.Cause(proc), &s)
}

// givenUp reports whether a try is left unanswered, lost with the
// worker: it failed while the worker's process is being stopped, or of
// the stop's own signal. A success is always answered.
func givenUp(proc context.Context, res *Result) bool {
	if res.Err == nil {
		return false
	}
	if proc.Err() == nil && killedByStopSignal(res.Err) {
		t := time.NewTimer(stopGrace)
		select {
		case <-proc.Done():
		case <-t.C:
		}
		t.Stop()
	}
	return stopping(proc)
}

// answer replies with a try's result, unless the try is given up.
func (w *worker) answer(proc context.Context, t *Task, res *Result) {
	if !givenUp(proc, res) {
		w.reply(t, res)
	}
}

// killedByStopSignal reports whether a failure is a bash app killed by
// one of the signals that stop a worker. The exit code of a
// BashExitFailure travels in Traceback (see builtins' WorkerRunner), as
// 128 + the signal number for a command killed by a signal, like bash's $?.
func killedByStopSignal(e *RemoteError) bool {
	if e.Kind != "BashExitFailure" {
		return false
	}
	code, err := strconv.Atoi(e.Traceback)
	return err == nil && (code == 128+int(syscall.SIGTERM) || code == 128+int(syscall.SIGINT))
}

// leaveOnStop calls leave as soon as proc is cancelled with a
// *StopSignal, so the writer says Bye without waiting for the slots to
// wind down; the returned function stops watching.
func leaveOnStop(proc context.Context, leave func()) func() bool {
	return context.AfterFunc(proc, func() {
		if stopping(proc) {
			leave()
		}
	})
}
