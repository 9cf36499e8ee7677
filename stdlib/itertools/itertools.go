// Package itertools is Python's itertools module for starflow scripts.
//
//	itertools = module(product, combinations, combinations_with_replacement,
//	    permutations, count, cycle, repeat, chain, accumulate, groupby, islice,
//	    zip_longest, starmap, takewhile, dropwhile, filterfalse, compress,
//	    pairwise, batched)
//
// product, combinations, combinations_with_replacement and permutations
// are lazy, as in Python: they make each tuple as it is iterated, so a
// large product costs nothing until used; unlike Python's they can be
// iterated again and have a len(). count(start=0, step=1), cycle(iterable)
// and repeat(x) (without times) are infinite, as in Python: use them in a
// for loop that breaks, in zip() with a finite iterable, or in islice();
// list(count()) never ends, as in Python.
//
// The others return lists; they consume an infinite input only as far as
// they need (islice, takewhile). groupby returns a list of (key, list)
// pairs. chain.from_iterable(iterables) is chain(*iterables).
package itertools

import (
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

const plus = syntax.PLUS

type builtinFunc = func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)

// Module returns a fresh itertools module.
func Module() *starlarkstruct.Module {
	m := starlark.StringDict{"chain": &chain{}}
	for name, fn := range map[string]builtinFunc{
		"product": productBuiltin, "combinations": combinationsBuiltin,
		"combinations_with_replacement": cwrBuiltin, "permutations": permutationsBuiltin,
		"count": count, "cycle": cycle, "repeat": repeat,
		"accumulate": accumulate, "groupby": groupby, "islice": islice, "zip_longest": zipLongest,
		"starmap": starmap, "takewhile": whileFilter("takewhile"), "dropwhile": whileFilter("dropwhile"),
		"filterfalse": whileFilter("filterfalse"),
		"compress":    compress, "pairwise": pairwise, "batched": batched,
	} {
		m[name] = starlark.NewBuiltin("itertools."+name, fn)
	}
	return &starlarkstruct.Module{Name: "itertools", Members: m}
}

func iterate(op string, v starlark.Value) (starlark.Iterator, error) {
	it := pyiter.Iterate(v)
	if it == nil {
		return nil, pyerr.New("TypeError", op, "%s object is not iterable", pyerr.TypeRepr(v))
	}
	return it, nil
}

func productBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	repeat := 1
	if err := starlark.UnpackArgs(b.Name(), nil, kwargs, "repeat?", &repeat); err != nil {
		return nil, err
	}
	if repeat < 0 {
		return nil, pyerr.New("ValueError", b.Name(), "repeat argument cannot be negative")
	}
	var pools [][]starlark.Value
	for _, a := range args {
		pool, err := pyiter.List(b.Name(), a)
		if err != nil {
			return nil, err
		}
		pools = append(pools, pool)
	}
	all := make([][]starlark.Value, 0, len(pools)*repeat)
	for i := 0; i < repeat; i++ {
		all = append(all, pools...)
	}
	return product(all), nil
}

// poolAndR unpacks (iterable, r) for the combinatoric functions.
func poolAndR(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, rOptional bool) ([]starlark.Value, int, error) {
	var it starlark.Value
	var rv starlark.Value = starlark.None
	spec := "r"
	if rOptional {
		spec = "r?"
	}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "iterable", &it, spec, &rv); err != nil {
		return nil, 0, err
	}
	pool, err := pyiter.List(b.Name(), it)
	if err != nil {
		return nil, 0, err
	}
	r := len(pool)
	if rv != starlark.None {
		if r, err = starlark.AsInt32(rv); err != nil {
			return nil, 0, pyerr.New("TypeError", b.Name(), "r: %v", err)
		}
	}
	if r < 0 {
		return nil, 0, pyerr.New("ValueError", b.Name(), "r must be non-negative")
	}
	return pool, r, nil
}

func combinationsBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	pool, r, err := poolAndR(b, args, kwargs, false)
	if err != nil {
		return nil, err
	}
	return combinations(pool, r), nil
}

func cwrBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	pool, r, err := poolAndR(b, args, kwargs, false)
	if err != nil {
		return nil, err
	}
	return combinationsWithReplacement(pool, r), nil
}

func permutationsBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	pool, r, err := poolAndR(b, args, kwargs, true)
	if err != nil {
		return nil, err
	}
	return permutations(pool, r), nil
}

func count(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var start, step starlark.Value = starlark.MakeInt(0), starlark.MakeInt(1)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "start?", &start, "step?", &step); err != nil {
		return nil, err
	}
	for _, v := range []starlark.Value{start, step} {
		if _, ok := starlark.AsFloat(v); !ok {
			return nil, pyerr.New("TypeError", b.Name(), "a number is required")
		}
	}
	return countOf(start, step), nil
}

func cycle(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var src starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &src); err != nil {
		return nil, err
	}
	if pyiter.Iterate(src) == nil {
		return nil, pyerr.New("TypeError", b.Name(), "%s object is not iterable", pyerr.TypeRepr(src))
	}
	return cycleOf(src), nil
}

func repeat(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, times starlark.Value = nil, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "object", &x, "times?", &times); err != nil {
		return nil, err
	}
	if times == starlark.None {
		return repeatForever(x), nil
	}
	n, err := starlark.AsInt32(times)
	if err != nil {
		return nil, pyerr.New("TypeError", b.Name(), "times: %v", err)
	}
	out := make([]starlark.Value, max(n, 0))
	for i := range out {
		out[i] = x
	}
	return starlark.NewList(out), nil
}

// chain is itertools.chain, a callable with a from_iterable attribute.
type chain struct{}

var (
	_ starlark.Callable = (*chain)(nil)
	_ starlark.HasAttrs = (*chain)(nil)
)

func (c *chain) String() string        { return "<class 'itertools.chain'>" }
func (c *chain) Type() string          { return "builtin_function_or_method" }
func (c *chain) Freeze()               {}
func (c *chain) Truth() starlark.Bool  { return true }
func (c *chain) Hash() (uint32, error) { return starlark.String("itertools.chain").Hash() }
func (c *chain) Name() string          { return "itertools.chain" }
func (c *chain) AttrNames() []string   { return []string{"from_iterable"} }

func (c *chain) Attr(name string) (starlark.Value, error) {
	if name != "from_iterable" {
		return nil, nil
	}
	return starlark.NewBuiltin("itertools.chain.from_iterable", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var its starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &its); err != nil {
			return nil, err
		}
		parts, err := pyiter.List(b.Name(), its)
		if err != nil {
			return nil, err
		}
		return concat(b.Name(), parts)
	}), nil
}

func (c *chain) CallInternal(_ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, pyerr.New("TypeError", c.Name(), "chain() takes no keyword arguments")
	}
	return concat(c.Name(), args)
}

func concat(op string, parts []starlark.Value) (starlark.Value, error) {
	var out []starlark.Value
	for _, p := range parts {
		xs, err := pyiter.List(op, p)
		if err != nil {
			return nil, err
		}
		out = append(out, xs...)
	}
	return starlark.NewList(out), nil
}
