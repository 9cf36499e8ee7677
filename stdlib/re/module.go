// Package re is Python's re module for starflow scripts, on Go's regexp
// (RE2): matching takes time linear in the text, and the patterns RE2
// cannot express fail to compile with a message saying so.
//
//	re = module(compile, search, match, fullmatch, findall, finditer, sub,
//	            subn, split, escape, purge,
//	            I, IGNORECASE, M, MULTILINE, S, DOTALL, X, VERBOSE, A, ASCII, U, UNICODE)
//
//	def compile(pattern, flags=0):
//	def search(pattern, string, flags=0):      # also match, fullmatch
//	def findall(pattern, string, flags=0):     # also finditer (a list of matches)
//	def sub(pattern, repl, string, count=0, flags=0):   # also subn
//	def split(pattern, string, maxsplit=0, flags=0):
//	def escape(pattern):
//
// A compiled pattern has search, match, fullmatch, findall, finditer,
// (each with string, pos=0, endpos=None), sub, subn, split, and pattern,
// flags, groups, groupindex. A match has group(*g), groups(default=None),
// groupdict(default=None), start(g=0), end(g=0), span(g=0), expand, m[g],
// string, re, pos, endpos, lastindex, lastgroup.
//
// Differences from Python:
//   - Not supported (an error at compile): backreferences (\1, (?P=name)),
//     lookahead and lookbehind ((?=, (?!, (?<=, (?<!), atomic groups,
//     possessive quantifiers, conditionals ((?(1)...)), \N{...}, re.LOCALE,
//     and bytes patterns.
//   - \d, \w, \s and \b are ASCII, as with re.ASCII; IGNORECASE still folds
//     Unicode case.
//   - Positions (start, end, span, pos) are byte offsets, as Starlark
//     indexes strings.
//   - "$" without MULTILINE matches before a final newline only when that
//     newline is the text's only one; pos= starts the search as if the
//     text began there (so "^" matches at pos).
//   - An empty match right after a non-empty one is skipped, as in Python
//     before 3.7: re.sub("x*", "-", "abxd") is "-a-b-d-", not "-a-b--d-".
//   - The error kind is "error" (re.error); there is no re.error value.
package re

import (
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// Module returns a fresh re module, with its own cache of compiled
// patterns.
func Module() *starlarkstruct.Module {
	c := &cache{patterns: map[cacheKey]*Pattern{}}
	m := starlark.StringDict{
		"compile": starlark.NewBuiltin("re.compile", c.compileBuiltin),
		"escape":  starlark.NewBuiltin("re.escape", escape),
		"purge":   starlark.NewBuiltin("re.purge", c.purge),
	}
	for _, name := range []string{"search", "match", "fullmatch", "findall", "finditer"} {
		m[name] = starlark.NewBuiltin("re."+name, c.searchFunc(name))
	}
	m["sub"] = starlark.NewBuiltin("re.sub", c.subFunc(false))
	m["subn"] = starlark.NewBuiltin("re.subn", c.subFunc(true))
	m["split"] = starlark.NewBuiltin("re.split", c.splitFunc)
	for names, v := range map[[2]string]int{
		{"I", "IGNORECASE"}: flagI, {"M", "MULTILINE"}: flagM, {"S", "DOTALL"}: flagS,
		{"X", "VERBOSE"}: flagX, {"A", "ASCII"}: flagA, {"U", "UNICODE"}: flagU, {"L", "LOCALE"}: flagL,
	} {
		m[names[0]] = starlark.MakeInt(v)
		m[names[1]] = starlark.MakeInt(v)
	}
	m["NOFLAG"] = starlark.MakeInt(0)
	return &starlarkstruct.Module{Name: "re", Members: m}
}

// cache keeps compiled patterns, as Python's re does, so that re.search
// in a loop compiles once.
type cache struct {
	mu       sync.Mutex
	patterns map[cacheKey]*Pattern
}

type cacheKey struct {
	pattern string
	flags   int
}

const maxCached = 512

// get compiles pattern (a str or an already compiled pattern).
func (c *cache) get(op string, pattern starlark.Value, flags int) (*Pattern, error) {
	switch p := pattern.(type) {
	case *Pattern:
		if flags != 0 {
			return nil, pyerr.New("ValueError", op, "cannot process flags argument with a compiled pattern")
		}
		return p, nil
	case starlark.String:
		k := cacheKey{string(p), flags}
		c.mu.Lock()
		cp, ok := c.patterns[k]
		c.mu.Unlock()
		if ok {
			return cp, nil
		}
		cp, err := compile(string(p), flags)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.patterns) >= maxCached {
			clear(c.patterns)
		}
		c.patterns[k] = cp
		return cp, nil
	case starlark.Bytes:
		return nil, pyerr.New("TypeError", op, "bytes patterns are not supported: decode to str first")
	}
	return nil, pyerr.New("TypeError", op, "first argument must be string or compiled pattern")
}

func (c *cache) compileBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern starlark.Value
	flags := 0
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "flags?", &flags); err != nil {
		return nil, err
	}
	return c.get(b.Name(), pattern, flags)
}

func (c *cache) purge(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.patterns)
	return starlark.None, nil
}

// searchFunc is re.search, match, fullmatch, findall, finditer:
// (pattern, string, flags=0).
func (c *cache) searchFunc(name string) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	method := patternMethod(name)
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var pattern, s starlark.Value
		flags := 0
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "string", &s, "flags?", &flags); err != nil {
			return nil, err
		}
		p, err := c.get(b.Name(), pattern, flags)
		if err != nil {
			return nil, err
		}
		return method(thread, b.Name(), p, starlark.Tuple{s}, nil)
	}
}

func (c *cache) subFunc(withCount bool) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var pattern, repl starlark.Value
		var s string
		count, flags := 0, 0
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "repl", &repl, "string", &s,
			"count?", &count, "flags?", &flags); err != nil {
			return nil, err
		}
		p, err := c.get(b.Name(), pattern, flags)
		if err != nil {
			return nil, err
		}
		return p.sub(thread, b.Name(), repl, s, count, withCount)
	}
}

func (c *cache) splitFunc(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern starlark.Value
	var s string
	maxsplit, flags := 0, 0
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "string", &s,
		"maxsplit?", &maxsplit, "flags?", &flags); err != nil {
		return nil, err
	}
	p, err := c.get(b.Name(), pattern, flags)
	if err != nil {
		return nil, err
	}
	return p.split(s, maxsplit), nil
}

// escape is Python 3.7's re.escape: a backslash before each character
// that is special in a pattern.
func escape(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &s); err != nil {
		return nil, err
	}
	const special = "()[]{}?*+-|^$\\.&~# \t\n\r\v\f"
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 128 && containsByte(special, c) {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return starlark.String(out), nil
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}
