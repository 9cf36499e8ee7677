package stdlib

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/collections"
	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

func isinstance(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, classinfo starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &classinfo); err != nil {
		return nil, err
	}
	ok, err := instanceOf(x, classinfo)
	return starlark.Bool(ok), err
}

// instanceOf is isinstance for the types Starlark has. A type is one of
// the universe's constructors (compared by name, as scripts cannot make
// new builtins), a namedtuple, a type name as type() returns it, or a
// tuple of these.
func instanceOf(x, t starlark.Value) (bool, error) {
	switch t := t.(type) {
	case starlark.Tuple:
		for _, e := range t {
			if ok, err := instanceOf(x, e); ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	case *collections.RecordType:
		return t.IsInstance(x), nil
	case starlark.String:
		return x.Type() == string(t), nil
	case *starlark.Builtin:
		if t.Receiver() == nil {
			name := t.Name()
			if i := strings.LastIndexByte(name, '.'); i >= 0 {
				name = name[i+1:]
			}
			return isA(x, name), nil
		}
	}
	return false, pyerr.New("TypeError", "isinstance", "isinstance() arg 2 must be a type, a tuple of types, or a union")
}

// isA says whether x is of the Python type called name, with Python's
// subclasses: bool is an int, Counter and defaultdict are dicts, a
// namedtuple is a tuple.
func isA(x starlark.Value, name string) bool {
	switch name {
	case "int":
		switch x.(type) {
		case starlark.Int, starlark.Bool:
			return true
		}
		return false
	case "dict", "OrderedDict":
		switch x.(type) {
		case *starlark.Dict, *collections.Counter, *collections.DefaultDict:
			return true
		}
		return false
	case "tuple":
		switch x.(type) {
		case starlark.Tuple, *collections.Record:
			return true
		}
		return false
	case "str":
		_, ok := x.(starlark.String)
		return ok
	case "object":
		return true
	}
	return x.Type() == name
}

func mapBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, pyerr.New("TypeError", b.Name(), "map() takes no keyword arguments")
	}
	if len(args) < 2 {
		return nil, pyerr.New("TypeError", b.Name(), "map() must have at least two arguments.")
	}
	fn := args[0]
	iters := make([]starlark.Iterator, len(args)-1)
	for i, a := range args[1:] {
		it := pyiter.Iterate(a)
		if it == nil {
			return nil, pyerr.New("TypeError", b.Name(), "%s object is not iterable", pyerr.TypeRepr(a))
		}
		defer it.Done()
		iters[i] = it
	}
	var out []starlark.Value
	for {
		callArgs := make(starlark.Tuple, len(iters))
		for i, it := range iters {
			if !it.Next(&callArgs[i]) {
				return starlark.NewList(out), nil // the shortest input ends it, as in Python
			}
		}
		v, err := starlark.Call(thread, fn, callArgs, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

func filter(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fn, seq starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &fn, &seq); err != nil {
		return nil, err
	}
	it := pyiter.Iterate(seq)
	if it == nil {
		return nil, pyerr.New("TypeError", b.Name(), "%s object is not iterable", pyerr.TypeRepr(seq))
	}
	defer it.Done()
	var out []starlark.Value
	var x starlark.Value
	for it.Next(&x) {
		keep := x.Truth()
		if fn != starlark.None {
			v, err := starlark.Call(thread, fn, starlark.Tuple{x}, nil)
			if err != nil {
				return nil, err
			}
			keep = v.Truth()
		}
		if keep {
			out = append(out, x)
		}
	}
	return starlark.NewList(out), nil
}

// minmax is min (sign -1) or max (+1), with key= and default= as in
// Python: the first of equal extremes wins.
func minmax(sign int) builtinFunc {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var key, def starlark.Value = starlark.None, nil
		if err := starlark.UnpackArgs(b.Name(), nil, kwargs, "key?", &key, "default?", &def); err != nil {
			return nil, err
		}
		var items starlark.Value
		switch len(args) {
		case 0:
			return nil, pyerr.New("TypeError", b.Name(), "%s expected at least 1 argument, got 0", b.Name())
		case 1:
			items = args[0]
		default:
			if def != nil {
				return nil, pyerr.New("TypeError", b.Name(), "Cannot specify a default for %s() with multiple positional arguments", b.Name())
			}
			items = args
		}
		it := pyiter.Iterate(items)
		if it == nil {
			return nil, pyerr.New("TypeError", b.Name(), "%s object is not iterable", pyerr.TypeRepr(items))
		}
		defer it.Done()
		op := syntax.GT
		if sign < 0 {
			op = syntax.LT
		}
		var best, bestKey, x starlark.Value
		for it.Next(&x) {
			k := x
			if key != starlark.None {
				var err error
				if k, err = starlark.Call(thread, key, starlark.Tuple{x}, nil); err != nil {
					return nil, err
				}
			}
			if best == nil {
				best, bestKey = x, k
				continue
			}
			better, err := starlark.Compare(op, k, bestKey)
			if err != nil {
				return nil, pyerr.New("TypeError", b.Name(), "%v", err)
			}
			if better {
				best, bestKey = x, k
			}
		}
		if best == nil {
			if def != nil {
				return def, nil
			}
			return nil, pyerr.New("ValueError", b.Name(), "%s() iterable argument is empty", b.Name())
		}
		return best, nil
	}
}

// iterator is what iter() returns: a position in an iterable, which
// next() advances.
type iterator struct {
	it   starlark.Iterator
	done bool
}

var _ starlark.Iterable = (*iterator)(nil)

func (i *iterator) String() string        { return fmt.Sprintf("<iterator object at %p>", i) }
func (i *iterator) Type() string          { return "iterator" }
func (i *iterator) Freeze()               {}
func (i *iterator) Truth() starlark.Bool  { return true }
func (i *iterator) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: iterator") }

// Iterate continues from where next() left off, as a Python iterator
// does in a for loop.
func (i *iterator) Iterate() starlark.Iterator { return &resume{i} }

type resume struct{ i *iterator }

func (r *resume) Next(p *starlark.Value) bool { return r.i.next(p) }
func (r *resume) Done()                       {}

func (i *iterator) next(p *starlark.Value) bool {
	if i.done {
		return false
	}
	if !i.it.Next(p) {
		i.done = true
		i.it.Done()
		return false
	}
	return true
}

func iter(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
		return nil, err
	}
	if i, ok := x.(*iterator); ok {
		return i, nil
	}
	it := pyiter.Iterate(x)
	if it == nil {
		return nil, pyerr.New("TypeError", b.Name(), "%s object is not iterable", pyerr.TypeRepr(x))
	}
	if starlark.Len(x) >= 0 {
		// Take a finite iterable's items now: an open Starlark iterator
		// would forbid changing a list or dict until it is used up.
		defer it.Done()
		var items []starlark.Value
		var v starlark.Value
		for it.Next(&v) {
			items = append(items, v)
		}
		return &iterator{it: starlark.NewList(items).Iterate()}, nil
	}
	return &iterator{it: it}, nil
}

// next advances an iterator. Given a plain iterable (which is what a
// generator expression becomes in starflow), it returns the first item.
func next(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, def starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x, &def); err != nil {
		return nil, err
	}
	i, ok := x.(*iterator)
	if !ok {
		it := pyiter.Iterate(x)
		if it == nil {
			return nil, pyerr.New("TypeError", b.Name(), "%s object is not an iterator", pyerr.TypeRepr(x))
		}
		i = &iterator{it: it}
		defer it.Done()
	}
	var v starlark.Value
	if i.next(&v) {
		return v, nil
	}
	if def != nil {
		return def, nil
	}
	return nil, pyerr.New("StopIteration", b.Name(), "StopIteration")
}
