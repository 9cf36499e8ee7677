// Package collections is Python's collections module for starflow
// scripts, as far as Starlark values allow.
//
//	collections = module(Counter, defaultdict, namedtuple, OrderedDict)
//
//	def Counter(iterable_or_mapping=None, **kwds):
//	def defaultdict(default_factory=None, iterable_or_mapping=None, **kwds):
//	def namedtuple(typename, field_names, *, rename=False, defaults=None, module=None):
//	def OrderedDict(...):   # dict: Starlark dicts keep insertion order
//
// A Counter (type "Counter") and a defaultdict (type "defaultdict") are
// dicts with Python's extra behaviour: c[missing] is 0 without storing it;
// d[missing] stores and returns default_factory(). They have the dict
// methods plus copy(), and Counter has most_common(n=None), elements(),
// update(...) (which adds), subtract(...), total() and + - | &. Both are
// dicts to isinstance, json.dumps and dict(); but Starlark compares values
// of different types as unequal, so Counter(a=1) == {"a": 1} is False,
// unlike Python.
//
// namedtuple returns a constructor; its values (type typename) index,
// unpack and compare like tuples, and have the fields as attributes,
// _fields, _asdict() and _replace(**kwargs). A namedtuple never equals a
// plain tuple in Starlark. Not provided: deque, ChainMap, UserDict.
package collections

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
	"go.starlark.net/starlarkstruct"
)

// Module returns a fresh collections module.
func Module() *starlarkstruct.Module {
	return &starlarkstruct.Module{
		Name: "collections",
		Members: starlark.StringDict{
			"Counter":     starlark.NewBuiltin("Counter", newCounter),
			"defaultdict": starlark.NewBuiltin("defaultdict", newDefaultDict),
			"namedtuple":  starlark.NewBuiltin("namedtuple", newNamedTuple),
			"OrderedDict": starlark.NewBuiltin("OrderedDict", newOrderedDict),
		},
	}
}

func newOrderedDict(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return starlark.Call(thread, starlark.Universe["dict"], args, kwargs)
}

// dictBase is what Counter and defaultdict share: a Starlark dict inside.
type dictBase struct {
	d *starlark.Dict
}

func (b *dictBase) Freeze()                          { b.d.Freeze() }
func (b *dictBase) Truth() starlark.Bool             { return b.d.Len() > 0 }
func (b *dictBase) Len() int                         { return b.d.Len() }
func (b *dictBase) Iterate() starlark.Iterator       { return b.d.Iterate() }
func (b *dictBase) Items() []starlark.Tuple          { return b.d.Items() }
func (b *dictBase) SetKey(k, v starlark.Value) error { return b.d.SetKey(k, v) }
func (b *dictBase) Dict() *starlark.Dict             { return b.d }
func (b *dictBase) hash(typ string) (uint32, error)  { return 0, fmt.Errorf("unhashable type: %s", typ) }
func (b *dictBase) has(k starlark.Value) (bool, error) {
	_, found, err := b.d.Get(k)
	return found, err
}
func (b *dictBase) dictAttr(name string) (starlark.Value, error) { return b.d.Attr(name) }

// dictMethodNames are the methods a Counter or defaultdict has as a dict.
func dictMethodNames() []string {
	return []string{"clear", "copy", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values"}
}

// update adds the pairs of a mapping or an iterable of pairs, and
// keyword arguments, to d through set.
func updateFrom(op string, src starlark.Value, kwargs []starlark.Tuple, set func(k, v starlark.Value) error) error {
	switch src := src.(type) {
	case nil, starlark.NoneType:
	case starlark.IterableMapping:
		for _, kv := range src.Items() {
			if err := set(kv[0], kv[1]); err != nil {
				return err
			}
		}
	default:
		it := pyiter.Iterate(src)
		if it == nil {
			return fmt.Errorf("%s: %s object is not iterable", op, src.Type())
		}
		defer it.Done()
		var x starlark.Value
		for i := 0; it.Next(&x); i++ {
			pair, ok := x.(starlark.Indexable)
			if !ok || pair.Len() != 2 {
				return fmt.Errorf("%s: dictionary update sequence element #%d is not a pair", op, i)
			}
			if err := set(pair.Index(0), pair.Index(1)); err != nil {
				return err
			}
		}
	}
	for _, kv := range kwargs {
		if err := set(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}
