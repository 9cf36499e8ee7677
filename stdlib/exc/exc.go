// Package exc is Python's exception model for scripts: the exception
// classes a script names in `except` and `raise` (ValueError, and Parsl's
// DependencyError, BashExitFailure, ...), the values they make, how a Go
// error from running Starlark code is seen as one of them, and the helpers
// the front end's lowered try/except, raise, assert, with and del call.
//
// Starlark has no exceptions. interp lowers a try body into a nested def
// that _sf_try calls; the error it returns, if any, becomes an exception
// value the handlers match by class name, following Python's hierarchy.
package exc

import (
	"fmt"
	"sort"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// Names of the helpers the lowered statements call; Builtins defines them.
const (
	Try          = "_sf_try"           // _sf_try(body) -> outcome
	Match        = "_sf_match"         // _sf_match(outcome, classes) -> bool
	Raise        = "_sf_raise"         // _sf_raise(exception, cause=None)
	Reraise      = "_sf_reraise"       // _sf_reraise(outcome): raise its error again, if any
	Enter        = "_sf_enter"         // _sf_enter(manager) -> manager: start of a with block
	Exit         = "_sf_exit"          // _sf_exit(manager): end of a with block
	DelItem      = "_sf_delitem"       // _sf_delitem(x, key): del x[key]
	DelSlice     = "_sf_delslice"      // _sf_delslice(x, lo, hi, step): del x[lo:hi:step]
	AssertFailed = "_sf_assert_failed" // _sf_assert_failed(msg?): a failed assert
)

// classNames are the exception classes a script sees as predeclared
// names: Python's that a workflow meets, and Parsl's.
var classNames = []string{
	"ArithmeticError", "AssertionError", "AttributeError", "BaseException",
	"Exception", "FileExistsError", "FileNotFoundError", "ImportError",
	"IndexError", "IsADirectoryError", "KeyError", "KeyboardInterrupt",
	"LookupError", "ModuleNotFoundError", "NameError", "NotADirectoryError",
	"NotImplementedError", "OSError", "OverflowError", "PermissionError",
	"RecursionError", "RuntimeError", "StopIteration", "SystemExit",
	"TimeoutError", "TypeError", "UnboundLocalError", "UnicodeDecodeError",
	"UnicodeError", "ValueError", "ZeroDivisionError",
	// Parsl's, as parsl.app.errors and parsl.dataflow.errors name them.
	"AppException", "AppTimeout", "BashExitFailure", "DataFlowException",
	"DependencyError", "JoinError", "ParslError",
}

// bases is the exception hierarchy: each class's base classes. A class
// not listed derives from Exception (a kind a builtin made up still
// behaves like an ordinary error).
var bases = map[string][]string{
	"BaseException":     nil,
	"Exception":         {"BaseException"},
	"KeyboardInterrupt": {"BaseException"},
	"SystemExit":        {"BaseException"},
	"GeneratorExit":     {"BaseException"},

	"ArithmeticError":     {"Exception"},
	"ZeroDivisionError":   {"ArithmeticError"},
	"OverflowError":       {"ArithmeticError"},
	"FloatingPointError":  {"ArithmeticError"},
	"LookupError":         {"Exception"},
	"KeyError":            {"LookupError"},
	"IndexError":          {"LookupError"},
	"OSError":             {"Exception"},
	"FileNotFoundError":   {"OSError"},
	"FileExistsError":     {"OSError"},
	"PermissionError":     {"OSError"},
	"IsADirectoryError":   {"OSError"},
	"NotADirectoryError":  {"OSError"},
	"TimeoutError":        {"OSError"},
	"InterruptedError":    {"OSError"},
	"RuntimeError":        {"Exception"},
	"NotImplementedError": {"RuntimeError"},
	"RecursionError":      {"RuntimeError"},
	"NameError":           {"Exception"},
	"UnboundLocalError":   {"NameError"},
	"ImportError":         {"Exception"},
	"ModuleNotFoundError": {"ImportError"},
	"ValueError":          {"Exception"},
	"UnicodeError":        {"ValueError"},
	"UnicodeDecodeError":  {"UnicodeError"},
	"UnicodeEncodeError":  {"UnicodeError"},
	// Raised by stdlib modules (stdlib/pyerr kinds).
	"StatisticsError":      {"ValueError"},
	"JSONDecodeError":      {"ValueError"},
	"UnsupportedOperation": {"OSError", "ValueError"},

	"ParslError":        {"Exception"},
	"AppException":      {"ParslError"},
	"BashExitFailure":   {"AppException"},
	"AppTimeout":        {"AppException"},
	"DataFlowException": {"ParslError"},
	"DependencyError":   {"DataFlowException"},
	"JoinError":         {"DataFlowException"},
}

// aliases are Python's other names for a class.
var aliases = map[string]string{"IOError": "OSError", "EnvironmentError": "OSError"}

// IsSubclass reports whether an exception of class kind is caught by
// `except base:`.
func IsSubclass(kind, base string) bool {
	if kind == base {
		return true
	}
	parents, ok := bases[kind]
	if !ok && kind != "BaseException" {
		parents = []string{"Exception"}
	}
	for _, p := range parents {
		if IsSubclass(p, base) {
			return true
		}
	}
	return false
}

// isKnownClass reports whether kind names an exception class, so that a
// value of that Type() can be raised.
func isKnownClass(kind string) bool {
	_, ok := bases[kind]
	return ok || kind == "AttributeError" || kind == "TypeError" || kind == "StopIteration"
}

// Builtins returns the names the lowered statements need: the _sf_
// helpers and the exception classes. The values are fresh for each call.
func Builtins() starlark.StringDict {
	d := starlark.StringDict{
		Try:          starlark.NewBuiltin(Try, try),
		Match:        starlark.NewBuiltin(Match, match),
		Raise:        starlark.NewBuiltin(Raise, raise),
		Reraise:      starlark.NewBuiltin(Reraise, reraise),
		Enter:        starlark.NewBuiltin(Enter, enter),
		Exit:         starlark.NewBuiltin(Exit, exit),
		DelItem:      starlark.NewBuiltin(DelItem, delItem),
		DelSlice:     starlark.NewBuiltin(DelSlice, delSlice),
		AssertFailed: starlark.NewBuiltin(AssertFailed, assertFailed),
	}
	for _, name := range classNames {
		d[name] = &Class{name: name}
	}
	for alias, name := range aliases {
		d[alias] = &Class{name: name}
	}
	return d
}

// ClassNames lists the exception classes Builtins defines, sorted, for
// module tables (`from parsl.app.errors import BashExitFailure`).
func ClassNames() []string {
	names := append([]string(nil), classNames...)
	for alias := range aliases {
		names = append(names, alias)
	}
	sort.Strings(names)
	return names
}

// ClassOf returns the exception class named name (e.__class__ of an
// exception of that kind).
func ClassOf(name string) *Class {
	if n, ok := aliases[name]; ok {
		name = n
	}
	return &Class{name: name}
}

// Class is an exception class: calling it makes an exception, `except`
// matches against it, and raise accepts it in place of an instance.
type Class struct{ name string }

var (
	_ starlark.Callable   = (*Class)(nil)
	_ starlark.HasAttrs   = (*Class)(nil)
	_ starlark.Comparable = (*Class)(nil)
)

func (c *Class) String() string        { return "<class '" + c.name + "'>" }
func (c *Class) Type() string          { return "type" }
func (c *Class) Freeze()               {}
func (c *Class) Truth() starlark.Bool  { return true }
func (c *Class) Hash() (uint32, error) { return starlark.String(c.name).Hash() }
func (c *Class) Name() string          { return c.name }

// CompareSameType makes two values of one class equal, whichever
// Builtins call made them.
func (c *Class) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	return compareNames(op, c.name, y.(*Class).name)
}

func (c *Class) AttrNames() []string { return []string{"__name__"} }

func (c *Class) Attr(name string) (starlark.Value, error) {
	if name == "__name__" {
		return starlark.String(c.name), nil
	}
	return nil, nil
}

func (c *Class) CallInternal(_ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, pyerr.New("TypeError", c.name, "%s() takes no keyword arguments", c.name)
	}
	return &Exception{kind: c.name, args: append(starlark.Tuple(nil), args...)}, nil
}

// Exception is an exception a script made (ValueError("bad")) or one
// starflow raised on its behalf (a stdlib ValueError, a division by zero).
// Its Type() is its class name, as for task failures.
type Exception struct {
	kind   string
	args   starlark.Tuple
	cause  starlark.Value // raise ... from cause; nil if none
	err    error          // the Go error behind it; nil if the script made it
	frozen bool
}

var _ starlark.HasAttrs = (*Exception)(nil)

// NewException returns an exception of class kind with args, standing for
// err (nil if none).
func NewException(kind string, args starlark.Tuple, err error) *Exception {
	return &Exception{kind: kind, args: args, err: err}
}

func (e *Exception) Type() string         { return e.kind }
func (e *Exception) Truth() starlark.Bool { return true }
func (e *Exception) Freeze() {
	if !e.frozen {
		e.frozen = true
		e.args.Freeze()
		if e.cause != nil {
			e.cause.Freeze()
		}
	}
}

// Hash agrees with equality, which is identity: equal exceptions have the
// same class and message.
func (e *Exception) Hash() (uint32, error) { return starlark.String(e.kind + ":" + e.String()).Hash() }

// String is str(e), as Python prints it: the one argument, a KeyError's
// key quoted (not a message starflow wrote), or the arguments' tuple.
func (e *Exception) String() string {
	switch len(e.args) {
	case 0:
		return ""
	case 1:
		s, ok := starlark.AsString(e.args[0])
		switch {
		case ok && e.kind == "KeyError" && e.err == nil:
			return pyerr.Repr(s)
		case ok:
			return s
		}
		return e.args[0].String()
	}
	return e.args.String()
}

// Err is the Go error behind the exception, or nil.
func (e *Exception) Err() error { return e.err }

func (e *Exception) AttrNames() []string { return []string{"__cause__", "__class__", "args"} }

func (e *Exception) Attr(name string) (starlark.Value, error) {
	switch name {
	case "args":
		return e.args, nil
	case "__class__":
		return ClassOf(e.kind), nil
	case "__cause__":
		if e.cause == nil {
			return starlark.None, nil
		}
		return e.cause, nil
	}
	return nil, nil
}

// str is str(v) for an exception value of either kind (ours or a task
// failure), without quotes around a string.
func str(v starlark.Value) string {
	if s, ok := starlark.AsString(v); ok {
		return s
	}
	return v.String()
}

// describe is how an uncaught exception prints: "ValueError: bad", or
// the class alone when the message is empty, as Python's traceback ends.
func describe(v starlark.Value) string {
	if msg := str(v); msg != "" {
		return fmt.Sprintf("%s: %s", v.Type(), msg)
	}
	return v.Type()
}

func compareNames(op syntax.Token, x, y string) (bool, error) {
	switch op {
	case syntax.EQL:
		return x == y, nil
	case syntax.NEQ:
		return x != y, nil
	}
	return false, fmt.Errorf("%s not supported between exception classes", op)
}
