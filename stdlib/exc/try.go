package exc

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	pysys "github.com/starflow-hpc/starflow/stdlib/sys"
)

// What a lowered try body returns to _sf_try: None when it ran to its
// end, "break" or "continue" for a loop outside it, ("return", value)
// for a return from the enclosing function.
const (
	kindOK       = "ok"
	kindError    = "error"
	kindReturn   = "return"
	kindBreak    = "break"
	kindContinue = "continue"
)

// Outcome is how a try body ended: kind is "ok", "error", "return",
// "break" or "continue"; value is what it returned; exc the exception it
// raised. The lowered code dispatches on it.
type Outcome struct {
	kind  string
	value starlark.Value
	exc   starlark.Value
	err   error // the error as it came, raised again unchanged
}

var _ starlark.HasAttrs = (*Outcome)(nil)

func (o *Outcome) String() string        { return "<try outcome " + o.kind + ">" }
func (o *Outcome) Type() string          { return "try_outcome" }
func (o *Outcome) Freeze()               {}
func (o *Outcome) Truth() starlark.Bool  { return true }
func (o *Outcome) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: try_outcome") }
func (o *Outcome) AttrNames() []string   { return []string{"exc", "kind", "value"} }

func (o *Outcome) Attr(name string) (starlark.Value, error) {
	switch name {
	case "kind":
		return starlark.String(o.kind), nil
	case "value":
		return o.value, nil
	case "exc":
		return o.exc, nil
	}
	return nil, nil
}

// try runs a lowered try body and reports how it ended. An error becomes
// an outcome, unless the thread was cancelled: then nothing more of the
// script may run, handlers and finally blocks included.
func try(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var body starlark.Callable
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &body); err != nil {
		return nil, err
	}
	v, err := starlark.Call(thread, body, nil, nil)
	if err != nil {
		if uncatchable(err) {
			return nil, err
		}
		return &Outcome{kind: kindError, value: starlark.None, exc: ValueOf(err), err: err}, nil
	}
	o := &Outcome{kind: kindOK, value: starlark.None, exc: starlark.None}
	switch v := v.(type) {
	case starlark.String:
		o.kind = string(v) // "break" or "continue"
	case starlark.Tuple:
		o.kind, o.value = kindReturn, v[1]
	}
	return o, nil
}

// match is `except classes:` for an outcome: whether its exception is of
// one of the classes (a class, or a tuple of them as in Python).
func match(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		o       *Outcome
		classes starlark.Value
	)
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &o, &classes); err != nil {
		return nil, err
	}
	if o.kind != kindError {
		return starlark.False, nil
	}
	ok, err := Matches(o.exc, classes)
	return starlark.Bool(ok), err
}

// Matches reports whether the exception v is an instance of classes: a
// class or a tuple of them (isinstance(v, classes) for exceptions). A
// module's builtin named like a class (json.JSONDecodeError) stands for
// that class.
func Matches(v, classes starlark.Value) (bool, error) {
	switch c := classes.(type) {
	case *Class:
		return IsSubclass(v.Type(), c.name), nil
	case starlark.Callable:
		name := c.Name()
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		if n, ok := aliases[name]; ok {
			name = n
		}
		if isKnownClass(name) {
			return IsSubclass(v.Type(), name), nil
		}
	case starlark.Tuple:
		for _, x := range c {
			if ok, err := Matches(v, x); ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("except: got %s, want an exception class such as ValueError, or a tuple of them", classes.Type())
}

// raise is the raise statement: it returns an error carrying the
// exception, which _sf_try turns back into that value. A class is
// instantiated with no arguments, as Python does.
func raise(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v, cause starlark.Value = nil, starlark.None
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v, &cause); err != nil {
		return nil, err
	}
	if c, ok := v.(*Class); ok {
		v = &Exception{kind: c.name}
	}
	if e, ok := v.(*Exception); ok && e.kind == "SystemExit" && e.err == nil {
		e.err = exitError(e.args)
	}
	if !isKnownClass(v.Type()) {
		return nil, fmt.Errorf("raise: got %s, want an exception such as ValueError(\"message\")", v.Type())
	}
	if e, ok := v.(*Exception); ok && cause != starlark.None && !e.frozen {
		e.cause = cause
	}
	return nil, &raised{v}
}

// exitError is what raise SystemExit(arg) means to the host, as
// sys.exit(arg) does: None is status 0, an int that status, anything else
// a message and status 1.
func exitError(args starlark.Tuple) *pysys.ExitError {
	if len(args) == 0 || args[0] == starlark.None {
		return &pysys.ExitError{}
	}
	if code, err := starlark.AsInt32(args[0]); err == nil {
		return &pysys.ExitError{Code: code}
	}
	return &pysys.ExitError{Code: 1, Message: str(args[0])}
}

// reraise raises an outcome's error again, unchanged (its backtrace is
// where it was first raised); any other outcome is left alone.
func reraise(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var o *Outcome
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &o); err != nil {
		return nil, err
	}
	if o.kind == kindError {
		return nil, o.err
	}
	return starlark.None, nil
}

// assertFailed is a failed assert statement: an AssertionError with the
// message, if the assert had one.
func assertFailed(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var msg starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &msg); err != nil {
		return nil, err
	}
	return nil, &raised{&Exception{kind: "AssertionError", args: append(starlark.Tuple(nil), args...)}}
}

// enter starts a with block: the value must be something exit can clean
// up, a DataFlowKernel or a file, checked before the block runs.
func enter(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	if _, err := cleanupOf(v); err != nil {
		return nil, err
	}
	return v, nil
}

// exit ends a with block: it cleans up the value the with statement
// entered, a DataFlowKernel (cleanup) or a file (close).
func exit(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	m, err := cleanupOf(v)
	if err != nil {
		return nil, err
	}
	if _, err := starlark.Call(thread, m, nil, nil); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// cleanupOf is v's cleanup or close method.
func cleanupOf(v starlark.Value) (starlark.Value, error) {
	if ha, ok := v.(starlark.HasAttrs); ok {
		for _, name := range []string{"cleanup", "close"} {
			m, err := ha.Attr(name)
			if err != nil {
				return nil, err
			}
			if m != nil {
				return m, nil
			}
		}
	}
	return nil, fmt.Errorf("with: got %s, want a file from open() or a kernel from parsl.load(): "+
		"nothing else can be cleaned up at the end of a with block", v.Type())
}
