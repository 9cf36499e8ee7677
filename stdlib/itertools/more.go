package itertools

import (
	"math"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

func accumulate(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var src starlark.Value
	var fn, initial starlark.Value = starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "iterable", &src, "func?", &fn, "initial?", &initial); err != nil {
		return nil, err
	}
	it, err := iterate(b.Name(), src)
	if err != nil {
		return nil, err
	}
	defer it.Done()
	var out []starlark.Value
	var acc starlark.Value
	if initial != starlark.None {
		acc = initial
		out = append(out, acc)
	}
	var x starlark.Value
	for it.Next(&x) {
		switch {
		case acc == nil:
			acc = x
		case fn == starlark.None:
			if acc, err = starlark.Binary(plus, acc, x); err != nil {
				return nil, err
			}
		default:
			if acc, err = starlark.Call(thread, fn, starlark.Tuple{acc, x}, nil); err != nil {
				return nil, err
			}
		}
		out = append(out, acc)
	}
	return starlark.NewList(out), nil
}

// keyOf applies key (None: the item itself).
func keyOf(thread *starlark.Thread, key, x starlark.Value) (starlark.Value, error) {
	if key == starlark.None {
		return x, nil
	}
	return starlark.Call(thread, key, starlark.Tuple{x}, nil)
}

func groupby(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var src starlark.Value
	var key starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "iterable", &src, "key?", &key); err != nil {
		return nil, err
	}
	xs, err := pyiter.List(b.Name(), src)
	if err != nil {
		return nil, err
	}
	var out []starlark.Value
	var curKey starlark.Value
	var group []starlark.Value
	flush := func() {
		if group != nil {
			out = append(out, starlark.Tuple{curKey, starlark.NewList(group)})
		}
	}
	for _, x := range xs {
		k, err := keyOf(thread, key, x)
		if err != nil {
			return nil, err
		}
		same := false
		if group != nil {
			if same, err = starlark.Equal(curKey, k); err != nil {
				return nil, err
			}
		}
		if !same {
			flush()
			curKey, group = k, nil
		}
		group = append(group, x)
	}
	flush()
	return starlark.NewList(out), nil
}

// sliceIndex is an islice bound: None or an int in [0, sys.maxsize].
func sliceIndex(op, msg string, v starlark.Value, def int) (int, error) {
	if v == starlark.None {
		return def, nil
	}
	n, err := starlark.AsInt32(v)
	if err != nil || n < 0 {
		return 0, pyerr.New("ValueError", op, "%s", msg)
	}
	return n, nil
}

func islice(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, pyerr.New("TypeError", b.Name(), "islice() takes no keyword arguments")
	}
	if len(args) < 2 || len(args) > 4 {
		return nil, pyerr.New("TypeError", b.Name(), "islice expected 2 to 4 arguments, got %d", len(args))
	}
	const idxMsg = "Indices for islice() must be None or an integer: 0 <= x <= sys.maxsize."
	var start, stop, step int
	var err error
	if len(args) == 2 {
		if stop, err = sliceIndex(b.Name(), "Stop argument for islice() must be None or an integer: 0 <= x <= sys.maxsize.", args[1], math.MaxInt); err != nil {
			return nil, err
		}
		step = 1
	} else {
		if start, err = sliceIndex(b.Name(), idxMsg, args[1], 0); err != nil {
			return nil, err
		}
		if stop, err = sliceIndex(b.Name(), idxMsg, args[2], math.MaxInt); err != nil {
			return nil, err
		}
		step = 1
		if len(args) == 4 {
			if step, err = sliceIndex(b.Name(), "Step for islice() must be a positive integer or None.", args[3], 1); err != nil || step == 0 {
				return nil, pyerr.New("ValueError", b.Name(), "Step for islice() must be a positive integer or None.")
			}
		}
	}
	it, err := iterate(b.Name(), args[0])
	if err != nil {
		return nil, err
	}
	defer it.Done()
	var out []starlark.Value
	var x starlark.Value
	// Take no more than needed, so that an infinite input is fine.
	for i := 0; i < stop && it.Next(&x); i++ {
		if i >= start && (i-start)%step == 0 {
			out = append(out, x)
		}
	}
	return starlark.NewList(out), nil
}

func zipLongest(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fill starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), nil, kwargs, "fillvalue?", &fill); err != nil {
		return nil, err
	}
	iters := make([]starlark.Iterator, len(args))
	for i, a := range args {
		it, err := iterate(b.Name(), a)
		if err != nil {
			return nil, err
		}
		defer it.Done()
		iters[i] = it
	}
	var out []starlark.Value
	for len(iters) > 0 {
		t := make(starlark.Tuple, len(iters))
		live := 0
		for i, it := range iters {
			if it != nil && it.Next(&t[i]) {
				live++
			} else {
				iters[i], t[i] = nil, fill
			}
		}
		if live == 0 {
			break
		}
		out = append(out, t)
	}
	return starlark.NewList(out), nil
}

func starmap(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fn, src starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &fn, &src); err != nil {
		return nil, err
	}
	xs, err := pyiter.List(b.Name(), src)
	if err != nil {
		return nil, err
	}
	out := make([]starlark.Value, len(xs))
	for i, x := range xs {
		callArgs, err := pyiter.List(b.Name(), x)
		if err != nil {
			return nil, err
		}
		if out[i], err = starlark.Call(thread, fn, callArgs, nil); err != nil {
			return nil, err
		}
	}
	return starlark.NewList(out), nil
}

// truth is pred(x), or x's truth when pred is None.
func truth(thread *starlark.Thread, pred, x starlark.Value) (bool, error) {
	if pred == starlark.None {
		return bool(x.Truth()), nil
	}
	r, err := starlark.Call(thread, pred, starlark.Tuple{x}, nil)
	if err != nil {
		return false, err
	}
	return bool(r.Truth()), nil
}

// whileFilter is takewhile, dropwhile and filterfalse: mode says which.
func whileFilter(mode string) builtinFunc {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var pred, src starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &pred, &src); err != nil {
			return nil, err
		}
		it, err := iterate(b.Name(), src)
		if err != nil {
			return nil, err
		}
		defer it.Done()
		var out []starlark.Value
		dropping := true
		var x starlark.Value
		for it.Next(&x) {
			if mode == "dropwhile" && !dropping {
				out = append(out, x)
				continue
			}
			ok, err := truth(thread, pred, x)
			if err != nil {
				return nil, err
			}
			switch mode {
			case "takewhile":
				if !ok {
					return starlark.NewList(out), nil
				}
				out = append(out, x)
			case "dropwhile":
				if !ok {
					dropping = false
					out = append(out, x)
				}
			case "filterfalse":
				if !ok {
					out = append(out, x)
				}
			}
		}
		return starlark.NewList(out), nil
	}
}

func compress(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var data, selectors starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "data", &data, "selectors", &selectors); err != nil {
		return nil, err
	}
	d, err := iterate(b.Name(), data)
	if err != nil {
		return nil, err
	}
	defer d.Done()
	s, err := iterate(b.Name(), selectors)
	if err != nil {
		return nil, err
	}
	defer s.Done()
	var out []starlark.Value
	var x, sel starlark.Value
	for d.Next(&x) && s.Next(&sel) {
		if sel.Truth() {
			out = append(out, x)
		}
	}
	return starlark.NewList(out), nil
}

func pairwise(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var src starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &src); err != nil {
		return nil, err
	}
	xs, err := pyiter.List(b.Name(), src)
	if err != nil {
		return nil, err
	}
	var out []starlark.Value
	for i := 1; i < len(xs); i++ {
		out = append(out, starlark.Tuple{xs[i-1], xs[i]})
	}
	return starlark.NewList(out), nil
}

func batched(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var src starlark.Value
	var n int
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &src, &n); err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, pyerr.New("ValueError", b.Name(), "n must be at least one")
	}
	xs, err := pyiter.List(b.Name(), src)
	if err != nil {
		return nil, err
	}
	var out []starlark.Value
	for i := 0; i < len(xs); i += n {
		out = append(out, starlark.Tuple(append([]starlark.Value(nil), xs[i:min(i+n, len(xs))]...)))
	}
	return starlark.NewList(out), nil
}
