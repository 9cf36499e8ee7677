package builtins

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/executors/bash"
	"github.com/starflow-hpc/starflow/stdlib/exc"
)

// ErrorValue is a task failure as a script sees it: type(e) is the Parsl
// or Python exception name, str(e) its message, and the Parsl error's
// attributes (exitcode, task_id, ...) are there.
type ErrorValue struct {
	kind string
	msg  string
	err  error
}

var _ starlark.HasAttrs = (*ErrorValue)(nil)

func (e *ErrorValue) String() string        { return e.msg }
func (e *ErrorValue) Type() string          { return e.kind }
func (e *ErrorValue) Freeze()               {}
func (e *ErrorValue) Truth() starlark.Bool  { return true }
func (e *ErrorValue) Hash() (uint32, error) { return starlark.String(e.msg).Hash() }

// Err is the Go error behind the value.
func (e *ErrorValue) Err() error { return e.err }

func (e *ErrorValue) AttrNames() []string {
	names := []string{"__class__", "args", "message"}
	switch e.kind {
	case "BashExitFailure":
		names = append(names, "app_name", "exitcode")
	case "DependencyError", "JoinError":
		names = append(names, "dependent_exceptions_tids", "task_id")
	}
	return names
}

func (e *ErrorValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "message":
		return starlark.String(e.msg), nil
	case "args":
		return starlark.Tuple{starlark.String(e.msg)}, nil
	case "__class__":
		return exc.ClassOf(e.kind), nil
	}
	var bf *bash.ExitFailure
	if errors.As(e.err, &bf) {
		switch name {
		case "exitcode":
			return starlark.MakeInt(bf.Code), nil
		case "app_name":
			return starlark.String(bf.App), nil
		}
	}
	var de *dfk.DependencyError
	if errors.As(e.err, &de) {
		switch name {
		case "task_id":
			return starlark.MakeInt(de.ID), nil
		case "dependent_exceptions_tids":
			return tids(de.Failed), nil
		}
	}
	var je *dfk.JoinError
	if errors.As(e.err, &je) {
		switch name {
		case "task_id":
			return starlark.MakeInt(je.ID), nil
		case "dependent_exceptions_tids":
			return tids(je.Failed), nil
		}
	}
	return nil, nil
}

// tids is Parsl's dependent_exceptions_tids: one (exception, "task N")
// pair per failed future, so ported code can unpack it the same way.
func tids(fs []*dfk.Future) *starlark.List {
	l := make([]starlark.Value, len(fs))
	for i, f := range fs {
		_, err := f.Outcome()
		l[i] = starlark.Tuple{errorValueOf(err), starlark.String(fmt.Sprintf("task %d", f.ID()))}
	}
	return starlark.NewList(l)
}

// errorValueOf classifies a task's error the way a Parsl user expects to
// tell failures apart.
func errorValueOf(err error) *ErrorValue {
	return &ErrorValue{kind: errorKind(err), msg: errorMessage(err), err: err}
}

func errorKind(err error) string {
	var (
		de *dfk.DependencyError
		je *dfk.JoinError
		at *dfk.AppTimeout
		bt *bash.Timeout
		bf *bash.ExitFailure
		ev *starlark.EvalError
	)
	switch {
	case errors.As(err, &de):
		return "DependencyError"
	case errors.As(err, &je):
		return "JoinError"
	case errors.As(err, &at), errors.As(err, &bt):
		return "AppTimeout"
	case errors.As(err, &bf):
		return "BashExitFailure"
	case errors.Is(err, dfk.ErrInterrupted):
		return "KeyboardInterrupt"
	case errors.As(err, &ev):
		// A raise in the app, a stdlib error, a Starlark runtime error.
		return exc.KindOf(err)
	}
	var ae *appError
	if errors.As(err, &ae) {
		return ae.kind
	}
	return "Exception"
}

// errorMessage is str(e): the app's own message, without task labels or
// backtraces.
func errorMessage(err error) string {
	var te *dfk.TaskError
	if errors.As(err, &te) {
		switch inner := te.Err.(type) {
		case *starlark.EvalError:
			// fail("x") and raise ValueError("x") print as "x", as in
			// Python.
			return exc.Message(inner)
		case *dfk.DependencyError, *dfk.JoinError:
			return inner.Error()
		}
		return te.Err.Error()
	}
	return err.Error()
}

// appError is an error raised by starflow on the app's behalf, with the
// Python exception name it corresponds to.
type appError struct {
	kind string
	msg  string
}

func (e *appError) Error() string { return e.msg }

// Exception is what an except clause binds for the error: Python's
// exception of that kind.
func (e *appError) Exception() starlark.Value { return &ErrorValue{kind: e.kind, msg: e.msg, err: e} }

// Exception is what `except ... as e:` binds around a result() that
// raised: the task's failure, as exception() returns it, so that Parsl's
// attributes (dependent_exceptions_tids, exitcode) are there.
func (e *resultError) Exception() starlark.Value { return errorValueOf(e.err) }

var (
	_ exc.Error = (*appError)(nil)
	_ exc.Error = (*resultError)(nil)
)

func newAppError(kind, format string, args ...any) error {
	return &appError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// failureText is what `.result()` raises and the run summary prints for a
// failed task: the task, the error, and the app's own backtrace.
func failureText(err error) string {
	var te *dfk.TaskError
	if errors.As(err, &te) {
		var ev *starlark.EvalError
		if errors.As(te.Err, &ev) {
			return fmt.Sprintf("task %d (%s) failed: %s", te.ID, te.App, strings.TrimRight(ev.Backtrace(), "\n"))
		}
		return fmt.Sprintf("task %d (%s) failed: %s: %v", te.ID, te.App, errorKind(err), te.Err)
	}
	return err.Error()
}

// FailureSummary is one entry of the end-of-run report: the task, its
// error kind and message, and where its output went.
func FailureSummary(err error) string {
	text := failureText(err)
	var le *logsError
	if errors.As(err, &le) {
		if le.stdout != "" {
			text += "\nstdout: " + le.stdout
		}
		if le.stderr != "" {
			text += "\nstderr: " + le.stderr
		}
	}
	return text
}

// logsError attaches a bash app's log paths to its failure; its message is
// the failure's own.
type logsError struct {
	err            error
	stdout, stderr string
}

func (e *logsError) Error() string { return e.err.Error() }
func (e *logsError) Unwrap() error { return e.err }
