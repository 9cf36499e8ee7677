package exc

import (
	"fmt"

	"go.starlark.net/starlark"
)

// delItem is `del x[key]`: a dict loses the key (KeyError if it has
// none), a list the element (IndexError past its end); anything with a
// pop method is asked to pop the key.
func delItem(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, key starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &key); err != nil {
		return nil, err
	}
	switch x := x.(type) {
	case *starlark.Dict:
		_, found, err := x.Delete(key)
		if err != nil {
			return nil, fmt.Errorf("del: %w", err)
		}
		if !found {
			return nil, &raised{&Exception{kind: "KeyError", args: starlark.Tuple{key}}}
		}
		return starlark.None, nil
	case *starlark.List:
		i, err := starlark.AsInt32(key)
		if err != nil {
			return nil, fmt.Errorf("del: list index: got %s, want int", key.Type())
		}
		n := x.Len()
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return nil, &raised{&Exception{kind: "IndexError", args: starlark.Tuple{starlark.String("list assignment index out of range")}}}
		}
		return starlark.None, keep(x, func(j int) bool { return j != i })
	case starlark.HasAttrs:
		pop, err := x.Attr("pop")
		if err != nil {
			return nil, err
		}
		if pop != nil {
			_, err := starlark.Call(thread, pop, starlark.Tuple{key}, nil)
			return starlark.None, err
		}
	}
	return nil, fmt.Errorf("del: %s does not support item deletion", x.Type())
}

// delSlice is `del x[lo:hi:step]` for a list.
func delSlice(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, lo, hi, step_ starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 4, &x, &lo, &hi, &step_); err != nil {
		return nil, err
	}
	l, ok := x.(*starlark.List)
	if !ok {
		return nil, fmt.Errorf("del: %s does not support slice deletion", x.Type())
	}
	step := 1
	if step_ != starlark.None {
		s, err := starlark.AsInt32(step_)
		if err != nil || s == 0 {
			return nil, fmt.Errorf("del: slice step: got %s, want a non-zero int", step_)
		}
		step = s
	}
	start, end, err := sliceBounds(l.Len(), lo, hi, step)
	if err != nil {
		return nil, err
	}
	drop := map[int]bool{}
	for i := start; step > 0 && i < end || step < 0 && i > end; i += step {
		drop[i] = true
	}
	return starlark.None, keep(l, func(j int) bool { return !drop[j] })
}

// sliceBounds is Python's slice.indices(n) for the start and end of a
// slice with a non-zero step.
func sliceBounds(n int, lo, hi starlark.Value, step int) (start, end int, err error) {
	first, last := 0, n // clamping range for a forward slice
	if step < 0 {
		first, last = -1, n-1
	}
	bound := func(v starlark.Value, def int) (int, error) {
		if v == starlark.None {
			return def, nil
		}
		i, err := starlark.AsInt32(v)
		if err != nil {
			return 0, fmt.Errorf("del: slice index: got %s, want int", v.Type())
		}
		if i < 0 {
			i += n
		}
		return min(max(i, first), last), nil
	}
	if step > 0 {
		if start, err = bound(lo, 0); err == nil {
			end, err = bound(hi, n)
		}
	} else if start, err = bound(lo, n-1); err == nil {
		end, err = bound(hi, -1)
	}
	return start, end, err
}

// keep rebuilds l with the elements whose index passes ok. Clear fails
// for a frozen list or one being iterated, as any mutation would.
func keep(l *starlark.List, ok func(int) bool) error {
	elems := make([]starlark.Value, 0, l.Len())
	for j := 0; j < l.Len(); j++ {
		if ok(j) {
			elems = append(elems, l.Index(j))
		}
	}
	if err := l.Clear(); err != nil {
		return fmt.Errorf("del: %w", err)
	}
	for _, v := range elems {
		if err := l.Append(v); err != nil {
			return fmt.Errorf("del: %w", err)
		}
	}
	return nil
}
