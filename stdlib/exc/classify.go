package exc

import (
	"errors"
	"strings"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
	pysys "github.com/starflow-hpc/starflow/stdlib/sys"
)

// Error is a Go error that knows the exception value an except clause
// binds for it. The script API's task failures implement it (the error
// result() raises), so that `except DependencyError as e` sees Parsl's
// attributes; this package cannot import them.
type Error interface {
	error
	// Exception is the value: its Type() is the class name and str() of
	// it the message.
	Exception() starlark.Value
}

// raised is the error a raise statement returns: it carries the raised
// value, so that an except clause binds that very value.
type raised struct{ v starlark.Value }

func (r *raised) Error() string { return describe(r.v) }

// Unwrap is the Go error behind the value (a task failure raised again),
// so that error formatting and exit codes still see it.
func (r *raised) Unwrap() error {
	switch v := r.v.(type) {
	case *Exception:
		return v.err
	case interface{ Err() error }:
		return v.Err()
	}
	return nil
}

// ValueOf is the exception an except clause sees for err, an error from
// running Starlark code: a task failure (through Error), a raised value,
// a stdlib builtin's Python error, sys.exit, or a Starlark runtime error
// classified by its message.
func ValueOf(err error) starlark.Value {
	var (
		e    Error
		r    *raised
		pe   *pyerr.Error
		exit *pysys.ExitError
		ev   *starlark.EvalError
	)
	switch {
	case errors.As(err, &e):
		return e.Exception()
	case errors.As(err, &r):
		return r.v
	case errors.As(err, &pe):
		return &Exception{kind: pe.Kind, args: starlark.Tuple{starlark.String(pe.Msg)}, err: err}
	case errors.As(err, &exit):
		var code starlark.Value = starlark.MakeInt(exit.Code)
		if exit.Message != "" {
			code = starlark.String(exit.Message)
		}
		return &Exception{kind: "SystemExit", args: starlark.Tuple{code}, err: err}
	case errors.As(err, &ev):
		msg := strings.TrimPrefix(ev.Msg, "fail: ")
		return &Exception{kind: kindOfMessage(ev.Msg), args: starlark.Tuple{starlark.String(msg)}, err: err}
	}
	return &Exception{kind: "Exception", args: starlark.Tuple{starlark.String(err.Error())}, err: err}
}

// KindOf is the Python exception class of err, as ValueOf sees it.
func KindOf(err error) string { return ValueOf(err).Type() }

// Message is str(e) for err, as ValueOf sees it: the message alone,
// without the raising builtin's name or the class.
func Message(err error) string { return str(ValueOf(err)) }

// uncatchable reports whether err stops the script whatever its handlers
// say: the thread was cancelled (an interrupt, a step limit), so no more
// of the script can run anyway.
func uncatchable(err error) bool {
	var ev *starlark.EvalError
	return errors.As(err, &ev) && strings.HasPrefix(ev.Msg, "Starlark computation cancelled")
}

// kindOfMessage names the Python exception a Starlark runtime error would
// be, from the interpreter's message (it has no error types to go by).
func kindOfMessage(msg string) string {
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(msg, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("division by zero", "modulo by zero"):
		return "ZeroDivisionError"
	case strings.HasPrefix(msg, "key ") && has("not in"), has("missing key"):
		return "KeyError"
	case has("out of range"):
		return "IndexError"
	case has(" field or method"):
		return "AttributeError"
	case has("referenced before assignment"):
		return "UnboundLocalError"
	case has("invalid literal", "values to unpack", "element not found", "substring not found", "not in list"):
		return "ValueError"
	case has("unsupported", "unknown binary op", "unknown unary op", "unhashable",
		"not iterable", "invalid call of non-function", "missing argument", "unexpected keyword argument"),
		has("got ") && has("want "):
		return "TypeError"
	case has("called recursively", "stack overflow"):
		return "RecursionError"
	}
	return "Exception"
}
