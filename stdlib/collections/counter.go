package collections

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// Counter is collections.Counter: a dict of counts where a missing key
// counts 0.
type Counter struct{ dictBase }

var (
	_ starlark.IterableMapping = (*Counter)(nil)
	_ starlark.HasSetKey       = (*Counter)(nil)
	_ starlark.Container       = (*Counter)(nil)
	_ starlark.HasAttrs        = (*Counter)(nil)
	_ starlark.HasBinary       = (*Counter)(nil)
	_ starlark.Comparable      = (*Counter)(nil)
)

func newCounter(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var src starlark.Value = starlark.None
	if err := starlark.UnpackPositionalArgs(b.Name(), args, nil, 0, &src); err != nil {
		return nil, err
	}
	c := &Counter{dictBase{new(starlark.Dict)}}
	if err := c.add(b.Name(), src, kwargs, +1); err != nil {
		return nil, err
	}
	return c, nil
}

// add counts the items of an iterable, or adds (sign +1) or subtracts
// (-1) the counts of a mapping and of kwargs.
func (c *Counter) add(op string, src starlark.Value, kwargs []starlark.Tuple, sign int) error {
	bump := func(k, n starlark.Value) error {
		if sign < 0 {
			var err error
			if n, err = starlark.Unary(syntax.MINUS, n); err != nil {
				return pyerr.New("TypeError", op, "%v", err)
			}
		}
		old, _, _ := c.Get(k)
		sum, err := starlark.Binary(syntax.PLUS, old, n)
		if err != nil {
			return pyerr.New("TypeError", op, "%v", err)
		}
		return c.d.SetKey(k, sum)
	}
	if _, isMap := src.(starlark.IterableMapping); !isMap && src != starlark.None {
		it := pyiter.Iterate(src)
		if it == nil {
			return pyerr.New("TypeError", op, "%s object is not iterable", pyerr.TypeRepr(src))
		}
		defer it.Done()
		var x starlark.Value
		for it.Next(&x) {
			if err := bump(x, starlark.MakeInt(1)); err != nil {
				return err
			}
		}
		src = nil
	}
	return updateFrom(op, src, kwargs, bump)
}

func (c *Counter) String() string {
	pairs := c.sorted()
	parts := make([]string, len(pairs))
	for i, kv := range pairs {
		parts[i] = kv[0].String() + ": " + kv[1].String()
	}
	if len(parts) == 0 {
		return "Counter()"
	}
	return "Counter({" + strings.Join(parts, ", ") + "})"
}
func (c *Counter) Type() string          { return "Counter" }
func (c *Counter) Hash() (uint32, error) { return c.hash("Counter") }

// Get is c[k]: a missing key counts 0, and is not stored.
func (c *Counter) Get(k starlark.Value) (starlark.Value, bool, error) {
	v, found, err := c.d.Get(k)
	if err != nil {
		return nil, false, err
	}
	if !found {
		return starlark.MakeInt(0), true, nil
	}
	return v, true, nil
}

// Has is `k in c`, which does not count a missing key as present.
func (c *Counter) Has(k starlark.Value) (bool, error) { return c.has(k) }

// sorted is most_common(): by count, highest first, ties in insertion
// order.
func (c *Counter) sorted() []starlark.Tuple {
	items := c.d.Items()
	sort.SliceStable(items, func(i, j int) bool {
		gt, _ := starlark.Compare(syntax.GT, items[i][1], items[j][1])
		return gt
	})
	return items
}

func (c *Counter) AttrNames() []string {
	return append(dictMethodNames(), "elements", "most_common", "subtract", "total")
}

func (c *Counter) Attr(name string) (starlark.Value, error) {
	var fn func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)
	switch name {
	case "most_common":
		fn = c.mostCommon
	case "elements":
		fn = c.elements
	case "update":
		fn = c.updater(+1)
	case "subtract":
		fn = c.updater(-1)
	case "total":
		fn = c.total
	case "copy":
		fn = func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return c.copy(), nil
		}
	default:
		return c.dictAttr(name)
	}
	return starlark.NewBuiltin(name, fn), nil
}

func (c *Counter) copy() *Counter {
	d := new(starlark.Dict)
	for _, kv := range c.d.Items() {
		d.SetKey(kv[0], kv[1])
	}
	return &Counter{dictBase{d}}
}

func (c *Counter) mostCommon(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var n starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "n?", &n); err != nil {
		return nil, err
	}
	items := c.sorted()
	if n != starlark.None {
		k, err := starlark.AsInt32(n)
		if err != nil {
			return nil, err
		}
		items = items[:max(0, min(k, len(items)))]
	}
	out := make([]starlark.Value, len(items))
	for i, kv := range items {
		out[i] = kv
	}
	return starlark.NewList(out), nil
}

func (c *Counter) elements(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	var out []starlark.Value
	for _, kv := range c.d.Items() {
		n, err := starlark.AsInt32(kv[1])
		if err != nil {
			return nil, pyerr.New("TypeError", b.Name(), "count of %s: %v", kv[0], err)
		}
		for i := 0; i < n; i++ {
			out = append(out, kv[0])
		}
	}
	return starlark.NewList(out), nil
}

func (c *Counter) updater(sign int) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var src starlark.Value = starlark.None
		if err := starlark.UnpackPositionalArgs(b.Name(), args, nil, 0, &src); err != nil {
			return nil, err
		}
		return starlark.None, c.add(b.Name(), src, kwargs, sign)
	}
}

func (c *Counter) total(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	var sum starlark.Value = starlark.MakeInt(0)
	for _, kv := range c.d.Items() {
		var err error
		if sum, err = starlark.Binary(syntax.PLUS, sum, kv[1]); err != nil {
			return nil, err
		}
	}
	return sum, nil
}

// Binary is Counter arithmetic: + and - add and subtract counts, | and &
// take the larger and smaller; only positive counts are kept.
func (c *Counter) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	other, ok := y.(*Counter)
	if !ok {
		return nil, nil
	}
	x := c
	if side == starlark.Right {
		x, other = other, c
	}
	out := &Counter{dictBase{new(starlark.Dict)}}
	keys := append(x.d.Keys(), other.d.Keys()...)
	for _, k := range keys {
		if _, found, _ := out.d.Get(k); found {
			continue
		}
		a, _, _ := x.Get(k)
		b, _, _ := other.Get(k)
		var v starlark.Value
		var err error
		switch op {
		case syntax.PLUS:
			v, err = starlark.Binary(syntax.PLUS, a, b)
		case syntax.MINUS:
			v, err = starlark.Binary(syntax.MINUS, a, b)
		case syntax.PIPE, syntax.AMP:
			var less bool
			if less, err = starlark.Compare(syntax.LT, a, b); err == nil {
				v = a
				if less == (op == syntax.PIPE) {
					v = b
				}
			}
		default:
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if pos, _ := starlark.Compare(syntax.GT, v, starlark.MakeInt(0)); pos {
			out.d.SetKey(k, v)
		}
	}
	return out, nil
}

// CompareSameType is == and != with missing keys counting 0, as in Python
// 3.10 and later.
func (c *Counter) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	other := y.(*Counter)
	if op != syntax.EQL && op != syntax.NEQ {
		return false, fmt.Errorf("%s not supported for Counter", op)
	}
	eq := true
	for _, k := range append(c.d.Keys(), other.d.Keys()...) {
		a, _, _ := c.Get(k)
		b, _, _ := other.Get(k)
		same, err := starlark.EqualDepth(a, b, depth-1)
		if err != nil {
			return false, err
		}
		if !same {
			eq = false
			break
		}
	}
	return eq == (op == syntax.EQL), nil
}
