// Package functools is Python's functools module for starflow scripts.
//
//	functools = module(reduce, partial, cache, lru_cache, wraps, cmp_to_key)
//
//	def reduce(function, iterable[, initial]):
//	def partial(func, *args, **keywords):   # has .func, .args, .keywords
//	def cache(func):
//	def lru_cache(maxsize=128, typed=False): / def lru_cache(func):
//	def wraps(wrapped, assigned=..., updated=...):   # returns the function unchanged
//	def cmp_to_key(mycmp):
//
// cache and lru_cache memoize on the arguments (which must be hashable)
// and, being shared by apps running at once, freeze what they store:
// a cached list cannot be changed through the value returned.
// cache_info() and cache_clear() work as in Python.
package functools

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// Module returns a fresh functools module.
func Module() *starlarkstruct.Module {
	return &starlarkstruct.Module{
		Name: "functools",
		Members: starlark.StringDict{
			"reduce":     starlark.NewBuiltin("functools.reduce", reduce),
			"partial":    starlark.NewBuiltin("functools.partial", newPartial),
			"cache":      starlark.NewBuiltin("functools.cache", cache),
			"lru_cache":  starlark.NewBuiltin("functools.lru_cache", lruCache),
			"wraps":      starlark.NewBuiltin("functools.wraps", wraps),
			"cmp_to_key": starlark.NewBuiltin("functools.cmp_to_key", cmpToKey),
		},
	}
}

func reduce(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fn, seq, initial starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &fn, &seq, &initial); err != nil {
		return nil, err
	}
	it := pyiter.Iterate(seq)
	if it == nil {
		return nil, pyerr.New("TypeError", b.Name(), "reduce() arg 2 must support iteration")
	}
	defer it.Done()
	acc := initial
	var x starlark.Value
	for it.Next(&x) {
		if acc == nil {
			acc = x
			continue
		}
		var err error
		if acc, err = starlark.Call(thread, fn, starlark.Tuple{acc, x}, nil); err != nil {
			return nil, err
		}
	}
	if acc == nil {
		return nil, pyerr.New("TypeError", b.Name(), "reduce() of empty iterable with no initial value")
	}
	return acc, nil
}

// Partial is functools.partial: fn with some arguments already given.
type Partial struct {
	fn     starlark.Value
	args   starlark.Tuple
	kwargs []starlark.Tuple
}

var (
	_ starlark.Callable = (*Partial)(nil)
	_ starlark.HasAttrs = (*Partial)(nil)
)

func newPartial(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 0 {
		return nil, pyerr.New("TypeError", b.Name(), "type 'partial' takes at least one argument")
	}
	if _, ok := args[0].(starlark.Callable); !ok {
		return nil, pyerr.New("TypeError", b.Name(), "the first argument must be callable")
	}
	p := &Partial{fn: args[0], args: append(starlark.Tuple(nil), args[1:]...), kwargs: kwargs}
	if inner, ok := args[0].(*Partial); ok {
		// partial(partial(f, 1), 2) is partial(f, 1, 2), as in Python.
		p.fn = inner.fn
		p.args = append(append(starlark.Tuple(nil), inner.args...), p.args...)
		p.kwargs = mergeKwargs(inner.kwargs, kwargs)
	}
	return p, nil
}

// mergeKwargs is {**a, **b}.
func mergeKwargs(a, b []starlark.Tuple) []starlark.Tuple {
	out := append([]starlark.Tuple(nil), a...)
	for _, kv := range b {
		replaced := false
		for i := range out {
			if out[i][0] == kv[0] {
				out[i], replaced = kv, true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

func (p *Partial) String() string {
	parts := []string{p.fn.String()}
	for _, a := range p.args {
		parts = append(parts, a.String())
	}
	for _, kv := range p.kwargs {
		parts = append(parts, string(kv[0].(starlark.String))+"="+kv[1].String())
	}
	return "functools.partial(" + strings.Join(parts, ", ") + ")"
}
func (p *Partial) Type() string         { return "partial" }
func (p *Partial) Name() string         { return "partial" }
func (p *Partial) Truth() starlark.Bool { return true }
func (p *Partial) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: partial")
}

func (p *Partial) Freeze() {
	p.fn.Freeze()
	p.args.Freeze()
	for _, kv := range p.kwargs {
		kv.Freeze()
	}
}

func (p *Partial) AttrNames() []string { return []string{"args", "func", "keywords"} }

func (p *Partial) Attr(name string) (starlark.Value, error) {
	switch name {
	case "func":
		return p.fn, nil
	case "args":
		return p.args, nil
	case "keywords":
		d := starlark.NewDict(len(p.kwargs))
		for _, kv := range p.kwargs {
			d.SetKey(kv[0], kv[1])
		}
		return d, nil
	}
	return nil, nil
}

func (p *Partial) CallInternal(thread *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	all := append(append(starlark.Tuple(nil), p.args...), args...)
	return starlark.Call(thread, p.fn, all, mergeKwargs(p.kwargs, kwargs))
}

func wraps(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var wrapped, assigned, updated starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "wrapped", &wrapped, "assigned?", &assigned, "updated?", &updated); err != nil {
		return nil, err
	}
	// Starlark functions have no __name__ or __doc__ to copy: the
	// decorator returns the wrapper as it is.
	return starlark.NewBuiltin("functools.wraps.decorator", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var fn starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &fn); err != nil {
			return nil, err
		}
		return fn, nil
	}), nil
}

// keyWrapper is what cmp_to_key's key function returns: a value that
// compares by calling mycmp.
type keyWrapper struct {
	cmp starlark.Value
	obj starlark.Value
}

func cmpToKey(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var cmp starlark.Callable
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "mycmp", &cmp); err != nil {
		return nil, err
	}
	return starlark.NewBuiltin("functools.KeyWrapper", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var obj starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &obj); err != nil {
			return nil, err
		}
		return &keyWrapper{cmp: cmp, obj: obj}, nil
	}), nil
}

func (k *keyWrapper) String() string       { return "<functools.KeyWrapper object>" }
func (k *keyWrapper) Type() string         { return "functools.KeyWrapper" }
func (k *keyWrapper) Freeze()              { k.obj.Freeze() }
func (k *keyWrapper) Truth() starlark.Bool { return true }
func (k *keyWrapper) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: functools.KeyWrapper")
}

// CompareSameType calls mycmp(a, b) and compares its result with 0.
// Starlark gives comparisons no thread, so mycmp runs on one of its own.
func (k *keyWrapper) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	r, err := starlark.Call(&starlark.Thread{Name: "cmp_to_key"}, k.cmp, starlark.Tuple{k.obj, y.(*keyWrapper).obj}, nil)
	if err != nil {
		return false, err
	}
	return starlark.CompareDepth(op, r, starlark.MakeInt(0), depth)
}
