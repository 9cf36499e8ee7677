// Package format is Python's string formatting for starflow scripts: the
// format-spec mini-language of str.format and f-strings, printf-style %
// formatting, and Python's str() and repr() of the values formatted.
//
// The front end (interp) lowers f-strings, .format calls and the %
// operator, and also **, "is" and chained comparisons, which Starlark
// lacks, to calls of the builtins that Builtins returns. Their names start
// with "_sf_" so that no script's names collide with them.
package format

import (
	"errors"
	"fmt"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// Builtins returns the predeclared names that lowered code calls:
//
//	_sf_fstring(template, *values)       f"..." (template uses {0}, {1}, ...)
//	_sf_format(recv, *args, **kwargs)    recv.format(...)
//	_sf_format_map(recv, mapping)        recv.format_map(mapping)
//	_sf_percent(x, y)                    x % y
//	_sf_pow(x, y)                        x ** y
//	_sf_is(x, y)                         x is y
//	_sf_chain(x0, op1, x1, op2, f2, ...) x0 op1 x1 op2 x2 ..., where f2...
//	                                     are callables returning x2...
func Builtins() starlark.StringDict {
	return starlark.StringDict{
		"_sf_fstring":    starlark.NewBuiltin("f-string", fstring),
		"_sf_format":     starlark.NewBuiltin("format", formatMethod),
		"_sf_format_map": starlark.NewBuiltin("format_map", formatMap),
		"_sf_percent":    starlark.NewBuiltin("%", percent),
		"_sf_pow":        starlark.NewBuiltin("**", pow),
		"_sf_is":         starlark.NewBuiltin("is", is),
		"_sf_chain":      starlark.NewBuiltin("comparison", chain),
		"_sf_iter":       starlark.NewBuiltin("for", iterOf),
	}
}

// iterOf is what a lowered for loop iterates: a string's characters (as
// Python iterates strings), anything else as it is.
func iterOf(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("for: internal error: %d arguments", len(args))
	}
	if s, ok := args[0].(starlark.String); ok {
		return Chars(s), nil
	}
	return args[0], nil
}

// Chars is a string's characters as a list of one-character strings.
func Chars(s starlark.String) *starlark.List {
	var out []starlark.Value
	for _, r := range string(s) {
		out = append(out, starlark.String(string(r)))
	}
	return starlark.NewList(out)
}

// errorf returns a Python exception of kind; the builtin that raises it
// names itself (see raised).
func errorf(kind, format string, args ...any) error {
	return &pyerr.Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// raised names the builtin in an error that does not name its operation.
func raised(b *starlark.Builtin, err error) error {
	var pe *pyerr.Error
	if errors.As(err, &pe) && pe.Op == "" {
		e := *pe
		e.Op = b.Name()
		return &e
	}
	return err
}

func fstring(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 0 || len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: want a template and positional values", b.Name())
	}
	template, ok := args[0].(starlark.String)
	if !ok {
		return nil, fmt.Errorf("%s: got %s template, want string", b.Name(), args[0].Type())
	}
	s, err := StrFormat(string(template), args[1:], nil)
	if err != nil {
		return nil, raised(b, err)
	}
	return starlark.String(s), nil
}

// formatMethod is recv.format(...): Python's for strings, the receiver's
// own format attribute for anything else (a module or struct with a
// format function).
func formatMethod(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%s: missing receiver", b.Name())
	}
	recv, ok := args[0].(starlark.String)
	if !ok {
		return callAttr(thread, args[0], "format", args[1:], kwargs)
	}
	s, err := StrFormat(string(recv), args[1:], kwargs)
	if err != nil {
		return nil, raised(b, err)
	}
	return starlark.String(s), nil
}

func formatMap(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%s: missing receiver", b.Name())
	}
	recv, ok := args[0].(starlark.String)
	if !ok {
		return callAttr(thread, args[0], "format_map", args[1:], kwargs)
	}
	var mapping starlark.IterableMapping
	if err := starlark.UnpackPositionalArgs(b.Name(), args[1:], kwargs, 1, &mapping); err != nil {
		return nil, err
	}
	var kw []starlark.Tuple
	for _, kv := range mapping.Items() {
		if _, ok := kv[0].(starlark.String); ok {
			kw = append(kw, kv)
		}
	}
	s, err := StrFormat(string(recv), nil, kw)
	if err != nil {
		return nil, raised(b, err)
	}
	return starlark.String(s), nil
}

func callAttr(thread *starlark.Thread, recv starlark.Value, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	fn, err := getAttr(recv, name)
	if err != nil {
		return nil, fmt.Errorf("%s has no .%s field or method", recv.Type(), name)
	}
	return starlark.Call(thread, fn, args, kwargs)
}

// percent is x % y: printf-style formatting when x is a string, the
// arithmetic operator otherwise.
func percent(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 2 || len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: want 2 operands", b.Name())
	}
	s, ok := args[0].(starlark.String)
	if !ok {
		return starlark.Binary(syntaxPercent, args[0], args[1])
	}
	out, err := Percent(string(s), args[1])
	if err != nil {
		return nil, raised(b, err)
	}
	return starlark.String(out), nil
}
