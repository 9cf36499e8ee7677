package stdlib

import (
	"math"
	"math/big"
	"strings"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/files"
	"github.com/starflow-hpc/starflow/stdlib/internal/pynum"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// Builtins returns the Python builtins that Starlark lacks or has
// differently, to be predeclared over Starlark's universe:
//
//	def sum(iterable, /, start=0):       # ints exact, floats as CPython 3.12 sums them
//	def abs(x):
//	def round(number, ndigits=None):     # halves to even; round(2.675, 2) == 2.67
//	def pow(base, exp, mod=None):
//	def divmod(a, b):
//	def isinstance(obj, classinfo):      # int, float, str, bool, list, dict, tuple, set,
//	                                     # bytes, range, Counter, File, a namedtuple, a tuple of these
//	def callable(obj):
//	def map(function, *iterables):       # a list
//	def filter(function, iterable):      # a list
//	def min(*args, key=None, default=...):  / def max(...):
//	def hex(x): / def oct(x): / def bin(x):
//	def iter(iterable): / def next(iterator, default=...):
//	def print(*objects, sep=" ", end="\n", file=None, flush=False):
//	def open(file, mode="r", ...):       # see package files
//	def input(prompt=""):                # always an error: scripts have no terminal
//
// Each call makes new values.
func Builtins(opts Options) starlark.StringDict {
	stdout, _ := opts.streams()
	str := opts.Str
	if str == nil {
		str = func(v starlark.Value) string {
			if s, ok := v.(starlark.String); ok {
				return string(s)
			}
			return v.String()
		}
	}
	p := &printer{stdout: stdout, str: str}
	out := starlark.StringDict{
		"print": starlark.NewBuiltin("print", p.print),
		"open":  files.NewOpen(),
		"input": starlark.NewBuiltin("input", input),
	}
	for name, fn := range map[string]builtinFunc{
		"sum": sum, "abs": abs, "round": round, "pow": pow, "divmod": divmod,
		"isinstance": isinstance, "callable": callable, "map": mapBuiltin, "filter": filter,
		"min": minmax(-1), "max": minmax(+1), "hex": radix(16, "0x"), "oct": radix(8, "0o"), "bin": radix(2, "0b"),
		"iter": iter, "next": next,
	} {
		out[name] = starlark.NewBuiltin(name, fn)
	}
	// Python iterates strings; Starlark does not. These take a string
	// where Python takes any iterable, and are Starlark's otherwise.
	for name, positions := range map[string]int{
		"list": 1, "tuple": 1, "set": 1, "sorted": 1, "enumerate": 1, "reversed": 1,
		"any": 1, "all": 1, "zip": -1,
	} {
		out[name] = stringsIterable(name, positions)
	}
	return out
}

// stringsIterable wraps the universe's builtin name so that a string among
// its first n positional arguments (all, for n < 0) is its characters.
func stringsIterable(name string, n int) *starlark.Builtin {
	orig := starlark.Universe[name].(*starlark.Builtin)
	return starlark.NewBuiltin(name, func(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var copied starlark.Tuple
		for i, a := range args {
			if n >= 0 && i >= n {
				break
			}
			if s, ok := a.(starlark.String); ok {
				if copied == nil {
					copied = append(starlark.Tuple(nil), args...)
				}
				var chars []starlark.Value
				for _, r := range string(s) {
					chars = append(chars, starlark.String(string(r)))
				}
				copied[i] = starlark.NewList(chars)
			}
		}
		if copied != nil {
			args = copied
		}
		return starlark.Call(thread, orig, args, kwargs)
	})
}

type builtinFunc = func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)

func sum(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var iterable starlark.Value
	var start starlark.Value = starlark.MakeInt(0)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "iterable", &iterable, "start?", &start); err != nil {
		return nil, err
	}
	return pynum.Sum(b.Name(), iterable, start)
}

func abs(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
		return nil, err
	}
	if n, ok := pynum.AsInt(x); ok {
		return starlark.MakeBigInt(new(big.Int).Abs(n)), nil
	}
	if f, ok := x.(starlark.Float); ok {
		return starlark.Float(math.Abs(float64(f))), nil
	}
	return nil, pyerr.New("TypeError", b.Name(), "bad operand type for abs(): %s", pyerr.TypeRepr(x))
}

func round(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value
	var ndigits starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "number", &x, "ndigits?", &ndigits); err != nil {
		return nil, err
	}
	return pynum.Round(b.Name(), x, ndigits)
}

func pow(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var base, exp starlark.Value
	var mod starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "base", &base, "exp", &exp, "mod?", &mod); err != nil {
		return nil, err
	}
	return pynum.Pow(b.Name(), base, exp, mod)
}

func divmod(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, y starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
		return nil, err
	}
	return pynum.Divmod(b.Name(), x, y)
}

func callable(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
		return nil, err
	}
	_, ok := x.(starlark.Callable)
	return starlark.Bool(ok), nil
}

// radix is hex, oct or bin: Python's prefixed digits of an int.
func radix(base int, prefix string) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
			return nil, err
		}
		n, ok := pynum.AsInt(x)
		if !ok {
			return nil, pyerr.New("TypeError", b.Name(), "%s object cannot be interpreted as an integer", pyerr.TypeRepr(x))
		}
		digits := new(big.Int).Abs(n).Text(base)
		if n.Sign() < 0 {
			return starlark.String("-" + prefix + digits), nil
		}
		return starlark.String(prefix + digits), nil
	}
}

func input(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return nil, pyerr.New("EOFError", b.Name(), "starflow scripts cannot read from the terminal: "+
		"pass values as arguments (sys.argv) or read them from a file")
}

// printer is print, writing to sys.stdout unless file= says otherwise.
type printer struct {
	stdout *files.Stream
	str    func(starlark.Value) string
}

func (p *printer) print(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var sep, end, file starlark.Value = starlark.None, starlark.None, starlark.None
	var flush bool
	if err := starlark.UnpackArgs(b.Name(), nil, kwargs, "sep?", &sep, "end?", &end, "file?", &file, "flush?", &flush); err != nil {
		return nil, err
	}
	sepText, err := textOr(b.Name(), "sep", sep, " ")
	if err != nil {
		return nil, err
	}
	endText, err := textOr(b.Name(), "end", end, "\n")
	if err != nil {
		return nil, err
	}
	var line strings.Builder
	for i, a := range args {
		if i > 0 {
			line.WriteString(sepText)
		}
		line.WriteString(p.str(a))
	}
	if file == starlark.None && thread.Print != nil && endText == "\n" {
		// The host's print hook: it knows where output goes (the
		// progress line, a test's buffer) and keeps lines whole.
		thread.Print(thread, line.String())
		return starlark.None, nil
	}
	line.WriteString(endText)
	if file == starlark.None {
		file = p.stdout
	}
	// One write per print, so that lines from concurrent apps stay whole.
	return starlark.None, files.Write(thread, file, line.String())
}

// textOr is a str-or-None argument of print.
func textOr(op, name string, v starlark.Value, def string) (string, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return def, nil
	case starlark.String:
		return string(v), nil
	}
	return "", pyerr.New("TypeError", op, "%s must be None or a string, not %s", name, v.Type())
}
