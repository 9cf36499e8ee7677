package collections

import (
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// DefaultDict is collections.defaultdict: d[missing] stores and returns
// default_factory().
type DefaultDict struct {
	dictBase
	factory starlark.Value // None: a missing key is a KeyError, as in a dict
}

var (
	_ starlark.IterableMapping = (*DefaultDict)(nil)
	_ starlark.HasSetKey       = (*DefaultDict)(nil)
	_ starlark.Container       = (*DefaultDict)(nil)
	_ starlark.HasAttrs        = (*DefaultDict)(nil)
	_ starlark.Comparable      = (*DefaultDict)(nil)
)

func newDefaultDict(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var factory, src starlark.Value = starlark.None, starlark.None
	if err := starlark.UnpackPositionalArgs(b.Name(), args, nil, 0, &factory, &src); err != nil {
		return nil, err
	}
	if _, ok := factory.(starlark.Callable); !ok && factory != starlark.None {
		return nil, pyerr.New("TypeError", b.Name(), "first argument must be callable or None")
	}
	d := &DefaultDict{dictBase{new(starlark.Dict)}, factory}
	if err := updateFrom(b.Name(), src, kwargs, d.d.SetKey); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *DefaultDict) String() string {
	parts := make([]string, 0, d.d.Len())
	for _, kv := range d.d.Items() {
		parts = append(parts, kv[0].String()+": "+kv[1].String())
	}
	return "defaultdict(" + d.factory.String() + ", {" + strings.Join(parts, ", ") + "})"
}
func (d *DefaultDict) Type() string          { return "defaultdict" }
func (d *DefaultDict) Hash() (uint32, error) { return d.hash("defaultdict") }

// Get is d[k]: a missing key gets default_factory(), stored. Starlark
// gives Get no thread, so the factory runs on a thread of its own (which
// is all list, int, set or a lambda need).
func (d *DefaultDict) Get(k starlark.Value) (starlark.Value, bool, error) {
	v, found, err := d.d.Get(k)
	if err != nil || found || d.factory == starlark.None {
		return v, found, err
	}
	v, err = callFactory(d.factory)
	if err != nil {
		return nil, false, err
	}
	if err := d.d.SetKey(k, v); err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// Has is `k in d`, which does not call the factory.
func (d *DefaultDict) Has(k starlark.Value) (bool, error) { return d.has(k) }

func (d *DefaultDict) AttrNames() []string {
	return append(dictMethodNames(), "default_factory")
}

func (d *DefaultDict) Attr(name string) (starlark.Value, error) {
	switch name {
	case "default_factory":
		return d.factory, nil
	case "copy":
		return starlark.NewBuiltin(name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			cp := &DefaultDict{dictBase{new(starlark.Dict)}, d.factory}
			for _, kv := range d.d.Items() {
				cp.d.SetKey(kv[0], kv[1])
			}
			return cp, nil
		}), nil
	}
	return d.dictAttr(name)
}

func (d *DefaultDict) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	return starlark.CompareDepth(op, d.d, y.(*DefaultDict).d, depth)
}

// callFactory calls a default factory with no arguments. Python's int(),
// float(), str() and bool() give zero values; Starlark's want an
// argument, so those are made here.
func callFactory(factory starlark.Value) (starlark.Value, error) {
	if b, ok := factory.(*starlark.Builtin); ok && b.Receiver() == nil {
		switch b.Name() {
		case "int":
			return starlark.MakeInt(0), nil
		case "float":
			return starlark.Float(0), nil
		case "str":
			return starlark.String(""), nil
		case "bool":
			return starlark.False, nil
		}
	}
	return starlark.Call(&starlark.Thread{Name: "defaultdict"}, factory, nil, nil)
}
