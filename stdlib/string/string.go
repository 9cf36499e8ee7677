// Package string is Python's string module for starflow scripts: its
// constants and capwords.
//
//	string = module(ascii_letters, ascii_lowercase, ascii_uppercase, digits,
//	                hexdigits, octdigits, punctuation, printable, whitespace, capwords)
//
//	def capwords(s, sep=None):
//
// Not provided: Template and Formatter (use str.format or f-strings).
package string

import (
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

const (
	lower       = "abcdefghijklmnopqrstuvwxyz"
	upper       = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits      = "0123456789"
	punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	whitespace  = " \t\n\r\x0b\x0c"
)

// Module returns a fresh string module.
func Module() *starlarkstruct.Module {
	return &starlarkstruct.Module{
		Name: "string",
		Members: starlark.StringDict{
			"ascii_letters":   starlark.String(lower + upper),
			"ascii_lowercase": starlark.String(lower),
			"ascii_uppercase": starlark.String(upper),
			"digits":          starlark.String(digits),
			"hexdigits":       starlark.String(digits + "abcdef" + "ABCDEF"),
			"octdigits":       starlark.String("01234567"),
			"punctuation":     starlark.String(punctuation),
			"printable":       starlark.String(digits + lower + upper + punctuation + whitespace),
			"whitespace":      starlark.String(whitespace),
			"capwords":        starlark.NewBuiltin("string.capwords", capwords),
		},
	}
}

// capwords is Python's: split on sep (runs of whitespace when None),
// capitalize each word, join with sep (a space when None).
func capwords(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	var sep starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s, "sep?", &sep); err != nil {
		return nil, err
	}
	var words []string
	join := " "
	if sepStr, ok := sep.(starlark.String); ok {
		join = string(sepStr)
		words = strings.Split(s, join)
	} else {
		words = strings.Fields(s)
	}
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + strings.ToLower(w[1:])
		}
	}
	return starlark.String(strings.Join(words, join)), nil
}
