// Package sys is Python's sys module for starflow scripts.
//
//	sys = module(argv, exit, stdout, stderr, platform, maxsize)
//
//	argv: list of str, the script's path then its arguments.
//	stdout, stderr: file objects (write, writelines, flush) for print(file=).
//	platform: "linux", "darwin", ... as Python names it.
//	maxsize: 2**63 - 1.
//
//	def exit(arg=None):
//
// exit stops the script: it returns an *ExitError, which the host detects
// with errors.As and turns into the process's exit status. arg None is
// status 0, an int is that status, anything else is status 1 with
// str(arg) to print on stderr, as Python does.
package sys

import (
	"fmt"
	"math"
	"runtime"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// ExitError is sys.exit's way of stopping the script. Code is the exit
// status; Message, when not empty, is what Python would print on stderr.
type ExitError struct {
	Code    int
	Message string
}

func (e *ExitError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("sys.exit(%q)", e.Message)
	}
	return fmt.Sprintf("sys.exit(%d)", e.Code)
}

// Module returns a fresh sys module.
func Module(argv []string, stdout, stderr starlark.Value) *starlarkstruct.Module {
	av := make([]starlark.Value, len(argv))
	for i, a := range argv {
		av[i] = starlark.String(a)
	}
	platform := runtime.GOOS
	return &starlarkstruct.Module{
		Name: "sys",
		Members: starlark.StringDict{
			"argv":     starlark.NewList(av),
			"exit":     starlark.NewBuiltin("sys.exit", exit),
			"stdout":   stdout,
			"stderr":   stderr,
			"platform": starlark.String(platform),
			"maxsize":  starlark.MakeInt64(math.MaxInt64),
		},
	}
}

func exit(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var arg starlark.Value = starlark.None
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &arg); err != nil {
		return nil, err
	}
	switch arg := arg.(type) {
	case starlark.NoneType:
		return nil, &ExitError{Code: 0}
	case starlark.Bool:
		if arg {
			return nil, &ExitError{Code: 1}
		}
		return nil, &ExitError{Code: 0}
	case starlark.Int:
		code, ok := arg.Int64()
		if !ok || code != int64(int(code)) {
			return nil, &ExitError{Code: -1}
		}
		return nil, &ExitError{Code: int(code)}
	case starlark.String:
		return nil, &ExitError{Code: 1, Message: string(arg)}
	}
	return nil, &ExitError{Code: 1, Message: arg.String()}
}
