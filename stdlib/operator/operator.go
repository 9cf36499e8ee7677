// Package operator is Python's operator module for starflow scripts:
// Python's operators as functions, for reduce, sorted(key=) and map.
//
//	operator = module(add, sub, mul, truediv, floordiv, mod, pow, neg, pos, abs,
//	    eq, ne, lt, le, gt, ge, not_, truth, contains, countOf, indexOf, getitem,
//	    concat, and_, or_, xor, invert, lshift, rshift, index,
//	    itemgetter, attrgetter, methodcaller)
//
//	def itemgetter(*items):           # f(x) is x[item], or a tuple of them
//	def attrgetter(*attrs):           # dotted names allowed: "a.b"
//	def methodcaller(name, *args, **kwargs):
//
// Not provided: is_ and is_not (Starlark has no object identity), the
// in-place forms (iadd, ...), setitem and delitem.
package operator

import (
	"fmt"
	"math"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
	"github.com/starflow-hpc/starflow/stdlib/internal/pynum"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

type builtinFunc = func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)

// Module returns a fresh operator module.
func Module() *starlarkstruct.Module {
	m := starlark.StringDict{}
	binary := map[string]syntax.Token{
		"add": syntax.PLUS, "sub": syntax.MINUS, "mul": syntax.STAR, "truediv": syntax.SLASH,
		"floordiv": syntax.SLASHSLASH, "mod": syntax.PERCENT, "and_": syntax.AMP, "or_": syntax.PIPE,
		"xor": syntax.CIRCUMFLEX, "lshift": syntax.LTLT, "rshift": syntax.GTGT, "concat": syntax.PLUS,
	}
	for name, tok := range binary {
		m[name] = starlark.NewBuiltin("operator."+name, binaryOp(tok))
	}
	compare := map[string]syntax.Token{
		"eq": syntax.EQL, "ne": syntax.NEQ, "lt": syntax.LT, "le": syntax.LE, "gt": syntax.GT, "ge": syntax.GE,
	}
	for name, tok := range compare {
		m[name] = starlark.NewBuiltin("operator."+name, compareOp(tok))
	}
	unary := map[string]func(starlark.Value) (starlark.Value, error){
		"neg":    func(x starlark.Value) (starlark.Value, error) { return starlark.Unary(syntax.MINUS, x) },
		"pos":    func(x starlark.Value) (starlark.Value, error) { return starlark.Unary(syntax.PLUS, x) },
		"invert": func(x starlark.Value) (starlark.Value, error) { return starlark.Unary(syntax.TILDE, x) },
		"not_":   func(x starlark.Value) (starlark.Value, error) { return !x.Truth(), nil },
		"truth":  func(x starlark.Value) (starlark.Value, error) { return x.Truth(), nil },
		"abs":    abs,
		"index":  index,
	}
	for name, fn := range unary {
		m[name] = starlark.NewBuiltin("operator."+name, unaryOp(fn))
	}
	for name, fn := range map[string]builtinFunc{
		"pow": pow, "contains": contains, "countOf": countOf, "indexOf": indexOf, "getitem": getitem,
		"itemgetter": itemgetter, "attrgetter": attrgetter, "methodcaller": methodcaller,
	} {
		m[name] = starlark.NewBuiltin("operator."+name, fn)
	}
	return &starlarkstruct.Module{Name: "operator", Members: m}
}

func binaryOp(tok syntax.Token) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x, y starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
			return nil, err
		}
		return starlark.Binary(tok, x, y)
	}
}

func compareOp(tok syntax.Token) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x, y starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
			return nil, err
		}
		r, err := starlark.Compare(tok, x, y)
		return starlark.Bool(r), err
	}
}

func unaryOp(fn func(starlark.Value) (starlark.Value, error)) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
			return nil, err
		}
		return fn(x)
	}
}

func abs(x starlark.Value) (starlark.Value, error) {
	switch x := x.(type) {
	case starlark.Int:
		if x.Sign() < 0 {
			return starlark.Unary(syntax.MINUS, x)
		}
		return x, nil
	case starlark.Float:
		return starlark.Float(math.Abs(float64(x))), nil
	case starlark.Bool:
		if x {
			return starlark.MakeInt(1), nil
		}
		return starlark.MakeInt(0), nil
	}
	return nil, pyerr.New("TypeError", "operator.abs", "bad operand type for abs(): %s", pyerr.TypeRepr(x))
}

func index(x starlark.Value) (starlark.Value, error) {
	if n, ok := pynum.AsInt(x); ok {
		return starlark.MakeBigInt(n), nil
	}
	return nil, pyerr.New("TypeError", "operator.index", "%s object cannot be interpreted as an integer", pyerr.TypeRepr(x))
}

func pow(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, y starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
		return nil, err
	}
	return pynum.Pow(b.Name(), x, y, nil)
}

func contains(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var a, x starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &a, &x); err != nil {
		return nil, err
	}
	return starlark.Binary(syntax.IN, x, a)
}

// positions lists the indexes where x occurs in a.
func positions(op string, a, x starlark.Value) ([]int, error) {
	it := pyiter.Iterate(a)
	if it == nil {
		return nil, pyerr.New("TypeError", op, "%s object is not iterable", pyerr.TypeRepr(a))
	}
	defer it.Done()
	var out []int
	var y starlark.Value
	for i := 0; it.Next(&y); i++ {
		if eq, err := starlark.Equal(y, x); err != nil {
			return nil, err
		} else if eq {
			out = append(out, i)
		}
	}
	return out, nil
}

func countOf(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var a, x starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &a, &x); err != nil {
		return nil, err
	}
	at, err := positions(b.Name(), a, x)
	return starlark.MakeInt(len(at)), err
}

func indexOf(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var a, x starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &a, &x); err != nil {
		return nil, err
	}
	at, err := positions(b.Name(), a, x)
	if err != nil {
		return nil, err
	}
	if len(at) == 0 {
		return nil, pyerr.New("ValueError", b.Name(), "sequence.index(x): x not in sequence")
	}
	return starlark.MakeInt(at[0]), nil
}

// GetItem is x[k] for a mapping or a sequence (negative indexes count
// from the end).
func GetItem(x, k starlark.Value) (starlark.Value, error) {
	switch x := x.(type) {
	case starlark.Mapping:
		v, found, err := x.Get(k)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, pyerr.New("KeyError", "", "%s", k)
		}
		return v, nil
	case starlark.Indexable:
		i, err := starlark.AsInt32(k)
		if err != nil {
			return nil, pyerr.New("TypeError", "", "%s indices must be integers, not %s", x.Type(), k.Type())
		}
		n := x.Len()
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return nil, pyerr.New("IndexError", "", "%s index out of range", x.Type())
		}
		return x.Index(i), nil
	}
	return nil, pyerr.New("TypeError", "", "%s object is not subscriptable", pyerr.TypeRepr(x))
}

func getitem(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, k starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &k); err != nil {
		return nil, err
	}
	return GetItem(x, k)
}

func itemgetter(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 0 || len(kwargs) > 0 {
		return nil, pyerr.New("TypeError", b.Name(), "itemgetter expected 1 argument, got %d", len(args))
	}
	keys := append(starlark.Tuple(nil), args...)
	return starlark.NewBuiltin(fmt.Sprintf("operator.itemgetter%s", keys), func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
			return nil, err
		}
		return gather(keys, func(k starlark.Value) (starlark.Value, error) { return GetItem(x, k) })
	}), nil
}

// gather applies get to each key: one value for one key, else a tuple.
func gather(keys starlark.Tuple, get func(starlark.Value) (starlark.Value, error)) (starlark.Value, error) {
	out := make(starlark.Tuple, len(keys))
	for i, k := range keys {
		v, err := get(k)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

// getattr is x.name, with Python's AttributeError.
func getattr(x starlark.Value, name string) (starlark.Value, error) {
	if ha, ok := x.(starlark.HasAttrs); ok {
		// A struct reports a missing field as an error; either way it
		// is Python's AttributeError.
		if v, err := ha.Attr(name); err == nil && v != nil {
			return v, nil
		}
	}
	return nil, pyerr.New("AttributeError", "", "%s object has no attribute %s", pyerr.TypeRepr(x), pyerr.Repr(name))
}

func attrgetter(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 0 || len(kwargs) > 0 {
		return nil, pyerr.New("TypeError", b.Name(), "attrgetter expected 1 argument, got %d", len(args))
	}
	for _, a := range args {
		if _, ok := a.(starlark.String); !ok {
			return nil, pyerr.New("TypeError", b.Name(), "attribute name must be a string")
		}
	}
	names := append(starlark.Tuple(nil), args...)
	return starlark.NewBuiltin(fmt.Sprintf("operator.attrgetter%s", names), func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
			return nil, err
		}
		return gather(names, func(n starlark.Value) (starlark.Value, error) {
			v := x
			for _, part := range strings.Split(string(n.(starlark.String)), ".") {
				var err error
				if v, err = getattr(v, part); err != nil {
					return nil, err
				}
			}
			return v, nil
		})
	}), nil
}

func methodcaller(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 0 {
		return nil, pyerr.New("TypeError", b.Name(), "methodcaller needs at least one argument, the method name")
	}
	name, ok := args[0].(starlark.String)
	if !ok {
		return nil, pyerr.New("TypeError", b.Name(), "method name must be a string")
	}
	callArgs := append(starlark.Tuple(nil), args[1:]...)
	return starlark.NewBuiltin("operator.methodcaller("+name.GoString()+")", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var x starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &x); err != nil {
			return nil, err
		}
		m, err := getattr(x, string(name))
		if err != nil {
			return nil, err
		}
		return starlark.Call(thread, m, callArgs, kwargs)
	}), nil
}
