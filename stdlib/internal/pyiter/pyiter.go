// Package pyiter iterates values as Python does, where that differs
// from Starlark: a str is an iterable of its characters (Starlark's is
// not iterable at all), so Counter("hello") and list-like uses of
// strings in the stdlib modules behave as in Python.
package pyiter

import (
	"unicode/utf8"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// Iterate is starlark.Iterate, except that a str yields its characters
// (code points, as one-character strings). It returns nil for a value
// that is not iterable.
func Iterate(v starlark.Value) starlark.Iterator {
	if s, ok := v.(starlark.String); ok {
		return &chars{s: string(s)}
	}
	return starlark.Iterate(v)
}

type chars struct{ s string }

func (c *chars) Next(p *starlark.Value) bool {
	if c.s == "" {
		return false
	}
	_, n := utf8.DecodeRuneInString(c.s)
	*p, c.s = starlark.String(c.s[:n]), c.s[n:]
	return true
}

func (c *chars) Done() {}

// List lists an iterable's items (Python's list(v)); a value that is not
// iterable is Python's TypeError, attributed to op.
func List(op string, v starlark.Value) ([]starlark.Value, error) {
	it := Iterate(v)
	if it == nil {
		return nil, pyerr.New("TypeError", op, "%s object is not iterable", pyerr.TypeRepr(v))
	}
	defer it.Done()
	var out []starlark.Value
	var x starlark.Value
	for it.Next(&x) {
		out = append(out, x)
	}
	return out, nil
}
