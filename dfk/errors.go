package dfk

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// TaskError is how a task's failure reaches its future: the app's own
// error, labelled with the task that raised it.
type TaskError struct {
	ID  int
	App string
	Err error
}

func (e *TaskError) Error() string {
	return fmt.Sprintf("task %d (%s): %v", e.ID, e.App, e.Err)
}

func (e *TaskError) Unwrap() error { return e.Err }

// DependencyError is Parsl's DependencyError: the task never ran because
// tasks it depends on failed.
type DependencyError struct {
	ID     int
	App    string
	Failed []*Future // the failed dependencies, in argument order
}

func (e *DependencyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "task %d (%s) not run: dependency failed: ", e.ID, e.App)
	for i, f := range e.Failed {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "task %d (%s)", f.ID(), f.App())
	}
	return b.String()
}

// JoinError is Parsl's JoinError: futures returned by a join app failed.
type JoinError struct {
	ID     int
	App    string
	Failed []*Future
}

func (e *JoinError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "join app task %d (%s): joined tasks failed: ", e.ID, e.App)
	for i, f := range e.Failed {
		if i > 0 {
			b.WriteString(", ")
		}
		_, err := f.Outcome()
		fmt.Fprintf(&b, "task %d (%s): %v", f.ID(), f.App(), rootMessage(err))
	}
	return b.String()
}

// AppTimeout is Parsl's AppTimeout: a try ran past its walltime.
type AppTimeout struct {
	App      string
	Walltime time.Duration
}

func (e *AppTimeout) Error() string {
	return fmt.Sprintf("app %s exceeded walltime of %gs", e.App, e.Walltime.Seconds())
}

// ErrInterrupted is the cause of cancellation when the user interrupts the
// run (Ctrl-C, SIGTERM): tasks not yet run fail with it and are not retried.
var ErrInterrupted = errors.New("run interrupted")

// rootMessage strips the TaskError label so a JoinError does not repeat it.
func rootMessage(err error) error {
	var te *TaskError
	if errors.As(err, &te) {
		return te.Err
	}
	return err
}

// appendCauses appends the failures that caused err: a script that
// inspected a DependencyError or JoinError has been told about them.
func appendCauses(fs []*Future, err error) []*Future {
	var de *DependencyError
	if errors.As(err, &de) {
		fs = append(fs, de.Failed...)
	}
	var je *JoinError
	if errors.As(err, &je) {
		fs = append(fs, je.Failed...)
	}
	return fs
}
