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
// since the copy crosses to the task's goroutine).
func resolve(v starlark.Value) starlark.Value {
	switch x := v.(type) {
	case *AppFuture:
		val, _ := x.fut.Outcome()
		return x.value(val)
	case *DataFuture:
		return x.file
	case starlark.Tuple:
		return resolveTuple(x)
	case *starlark.List:
		if !hasFutures(x) {
			return x
		}
		elems := make([]starlark.Value, x.Len())
		for i := range elems {
			elems[i] = resolve(x.Index(i))
		}
		l := starlark.NewList(elems)
		l.Freeze()
		return l
	case *starlark.Dict:
		if !hasFutures(x) {
			return x
		}
		d := starlark.NewDict(x.Len())
		for _, kv := range x.Items() {
			_ = d.SetKey(resolve(kv[0]), resolve(kv[1]))
		}
		d.Freeze()
		return d
	case *starlark.Set:
		if !hasFutures(x) {
			return x
		}
		s := new(starlark.Set)
		iter := x.Iterate()
		defer iter.Done()
		var e starlark.Value
		for iter.Next(&e) {
			_ = s.Insert(resolve(e))
		}
		s.Freeze()
		return s
	}
	return v
}

func resolveTuple(xs starlark.Tuple) starlark.Tuple {
	if !hasFutures(xs) {
		return xs
	}
	out := make(starlark.Tuple, len(xs))
	for i, e := range xs {
		out[i] = resolve(e)
	}
	return out
}

func hasFutures(v starlark.Value) bool {
	_, found := collectFutures(v, nil)
	return found
}
