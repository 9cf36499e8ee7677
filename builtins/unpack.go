package builtins

import (
	"errors"
	"regexp"

	"go.starlark.net/starlark"
)

// unpackArgs is starlark.UnpackArgs with one message whichever way an
// argument was passed: the interpreter quotes a parameter given by keyword
// (`for parameter "max_threads"`) but not one given by position, and a
// Parsl user should read `ThreadPoolExecutor: for parameter max_threads:
// got string, want int` either way.
func unpackArgs(fn string, args starlark.Tuple, kwargs []starlark.Tuple, pairs ...any) error {
	err := starlark.UnpackArgs(fn, args, kwargs, pairs...)
	if err == nil {
		return nil
	}
	return errors.New(quotedParam.ReplaceAllString(err.Error(), "${1}${2}:"))
}

var quotedParam = regexp.MustCompile(`^(.*?: for parameter )"([A-Za-z_][A-Za-z0-9_]*)":`)
