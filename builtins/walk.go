package builtins

import (
	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/dfk"
)

// collectFutures appends to deps every future inside v (positional and
// keyword arguments, inputs=, and lists, tuples, dicts and sets nested in
// them) and reports whether it found any.
func collectFutures(v starlark.Value, deps []*dfk.Future) ([]*dfk.Future, bool) {
	switch x := v.(type) {
	case *AppFuture:
		return append(deps, x.fut), true
	case *DataFuture:
		return append(deps, x.parent), true
	case starlark.Tuple:
		return collectSeq(x, deps)
	case *starlark.List:
		found := false
		for i := 0; i < x.Len(); i++ {
			var f bool
			deps, f = collectFutures(x.Index(i), deps)
			found = found || f
		}
		return deps, found
	case *starlark.Dict:
		found := false
		for _, kv := range x.Items() {
			var f1, f2 bool
			deps, f1 = collectFutures(kv[0], deps)
			deps, f2 = collectFutures(kv[1], deps)
			found = found || f1 || f2
		}
		return deps, found
	case *starlark.Set:
		found := false
		iter := x.Iterate()
		defer iter.Done()
		var e starlark.Value
		for iter.Next(&e) {
			var f bool
			deps, f = collectFutures(e, deps)
			found = found || f
		}
		return deps, found
	}
	return deps, false
}

func collectSeq(xs starlark.Tuple, deps []*dfk.Future) ([]*dfk.Future, bool) {
	found := false
	for _, e := range xs {
		var f bool
		deps, f = collectFutures(e, deps)
		found = found || f
	}
	return deps, found
}

// resolve returns v with every future replaced by its result. It is called
// only after every future in v succeeded. Containers without futures are
// returned as they are; containers with futures are copied (and frozen,
// since the copy crosses to the task's goroutine). A future used as a dict
// key or set element may resolve to a value that cannot be one: that is
// the app's TypeError, as Python would raise it.
func resolve(v starlark.Value) (starlark.Value, error) {
	switch x := v.(type) {
	case *AppFuture:
		val, _ := x.fut.Outcome()
		return x.value(val), nil
	case *DataFuture:
		return x.file, nil
	case starlark.Tuple:
		return resolveTuple(x)
	case *starlark.List:
		if !hasFutures(x) {
			return x, nil
		}
		elems := make([]starlark.Value, x.Len())
		for i := range elems {
			e, err := resolve(x.Index(i))
			if err != nil {
				return nil, err
			}
			elems[i] = e
		}
		l := starlark.NewList(elems)
		l.Freeze()
		return l, nil
	case *starlark.Dict:
		if !hasFutures(x) {
			return x, nil
		}
		d := starlark.NewDict(x.Len())
		for _, kv := range x.Items() {
			k, err := resolve(kv[0])
			if err != nil {
				return nil, err
			}
			val, err := resolve(kv[1])
			if err != nil {
				return nil, err
			}
			if err := d.SetKey(k, val); err != nil {
				return nil, unhashable(err)
			}
		}
		d.Freeze()
		return d, nil
	case *starlark.Set:
		if !hasFutures(x) {
			return x, nil
		}
		s := new(starlark.Set)
		iter := x.Iterate()
		defer iter.Done()
		var e starlark.Value
		for iter.Next(&e) {
			r, err := resolve(e)
			if err != nil {
				return nil, err
			}
			if err := s.Insert(r); err != nil {
				return nil, unhashable(err)
			}
		}
		s.Freeze()
		return s, nil
	}
	return v, nil
}

func unhashable(err error) error {
	return newAppError("TypeError", "argument: a future used as a dict key or set element resolved to a value that cannot be one: %v", err)
}

func resolveTuple(xs starlark.Tuple) (starlark.Tuple, error) {
	if !hasFutures(xs) {
		return xs, nil
	}
	out := make(starlark.Tuple, len(xs))
	for i, e := range xs {
		r, err := resolve(e)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

func hasFutures(v starlark.Value) bool {
	_, found := collectFutures(v, nil)
	return found
}
