package builtins

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/executors/bash"
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
	names := []string{"args", "message"}
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
		return pythonKind(ev.Msg)
	}
	var ae *appError
	if errors.As(err, &ae) {
		return ae.kind
	}
	return "Exception"
}

// pythonKind names the Python exception a Starlark runtime error would be,
// from the interpreter's message (it has no error types to go by).
func pythonKind(msg string) string {
	switch {
	case strings.Contains(msg, "division by zero"), strings.Contains(msg, "modulo by zero"):
		return "ZeroDivisionError"
	case strings.HasPrefix(msg, "key ") && strings.Contains(msg, "not in"):
		return "KeyError"
	case strings.Contains(msg, "out of range"):
		return "IndexError"
	case strings.Contains(msg, " field or method"):
		return "AttributeError"
	case strings.Contains(msg, "invalid literal"):
		return "ValueError"
	case strings.Contains(msg, "unsupported"), strings.Contains(msg, "unknown binary op"),
		strings.Contains(msg, "unknown unary op"), strings.Contains(msg, "unhashable"),
		strings.Contains(msg, "not iterable"), strings.Contains(msg, "invalid call of non-function"),
		strings.Contains(msg, "got ") && strings.Contains(msg, "want "):
		return "TypeError"
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
			// fail("x") is the script's raise: str(e) is "x", as in Python.
			return strings.TrimPrefix(inner.Msg, "fail: ")
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
