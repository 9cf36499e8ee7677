package glob

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
)

// FnmatchModule returns a fresh fnmatch module. Matching is case-sensitive,
// as Python's is on POSIX.
//
//	def fnmatch(name, pat):
//	def fnmatchcase(name, pat):
//	def filter(names, pat):
//	def translate(pat):
func FnmatchModule() *starlarkstruct.Module {
	match := func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var name, pat string
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &name, &pat); err != nil {
			return nil, err
		}
		return starlark.Bool(compile(pat).MatchString(name)), nil
	}
	return &starlarkstruct.Module{
		Name: "fnmatch",
		Members: starlark.StringDict{
			"fnmatch":     starlark.NewBuiltin("fnmatch.fnmatch", match),
			"fnmatchcase": starlark.NewBuiltin("fnmatch.fnmatchcase", match),
			"filter":      starlark.NewBuiltin("fnmatch.filter", filter),
			"translate":   starlark.NewBuiltin("fnmatch.translate", translate),
		},
	}
}

func filter(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var names starlark.Value
	var pat string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &names, &pat); err != nil {
		return nil, err
	}
	re := compile(pat)
	var out []starlark.Value
	it := pyiter.Iterate(names)
	if it == nil {
		return nil, fmt.Errorf("%s: %s object is not iterable", b.Name(), names.Type())
	}
	defer it.Done()
	var x starlark.Value
	for it.Next(&x) {
		if s, ok := x.(starlark.String); ok && re.MatchString(string(s)) {
			out = append(out, x)
		}
	}
	return starlark.NewList(out), nil
}

func translate(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pat string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &pat); err != nil {
		return nil, err
	}
	return starlark.String(Translate(pat)), nil
}
