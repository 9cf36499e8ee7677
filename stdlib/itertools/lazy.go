package itertools

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
)

// lazy is an iterable whose items are made as they are asked for, like
// Python's itertools objects: product(range(100), repeat=5) costs nothing
// until iterated, and count() never ends. Unlike a Python iterator it can
// be iterated again, from the start.
type lazy struct {
	name string
	repr string
	n    int // number of items, or -1 when unknown or infinite
	iter func() starlark.Iterator
}

var (
	_ starlark.Iterable = (*lazy)(nil)
	_ starlark.Sequence = (*lazy)(nil)
)

func (l *lazy) String() string {
	if l.repr != "" {
		return l.repr
	}
	return fmt.Sprintf("<itertools.%s object at %p>", l.name, l)
}
func (l *lazy) Type() string               { return l.name }
func (l *lazy) Freeze()                    {}
func (l *lazy) Truth() starlark.Bool       { return true }
func (l *lazy) Hash() (uint32, error)      { return 0, fmt.Errorf("unhashable type: %s", l.name) }
func (l *lazy) Iterate() starlark.Iterator { return l.iter() }

// Len is the number of items, or -1 (which len() reports as no length)
// when it is unknown, infinite or too large for an int.
func (l *lazy) Len() int { return l.n }

// funcIterator adapts a next function to starlark.Iterator.
type funcIterator struct {
	next func() (starlark.Value, bool)
	done func()
}

func (it *funcIterator) Next(p *starlark.Value) bool {
	v, ok := it.next()
	if ok {
		*p = v
	}
	return ok
}

func (it *funcIterator) Done() {
	if it.done != nil {
		it.done()
	}
}

// count is count(start=0, step=1): start, start+step, ... without end,
// added up the way Python adds them (so float steps accumulate rounding
// as Python's do).
func countOf(start, step starlark.Value) *lazy {
	repr := fmt.Sprintf("count(%s)", start)
	if i, ok := step.(starlark.Int); !ok || i.Sign() != 1 || i.BigInt().Int64() != 1 {
		repr = fmt.Sprintf("count(%s, %s)", start, step)
	}
	return &lazy{name: "count", repr: repr, n: -1, iter: func() starlark.Iterator {
		cur := start
		return &funcIterator{next: func() (starlark.Value, bool) {
			v := cur
			next, err := starlark.Binary(plus, cur, step)
			if err != nil {
				return nil, false
			}
			cur = next
			return v, true
		}}
	}}
}

// repeatForever is repeat(x) without times.
func repeatForever(x starlark.Value) *lazy {
	return &lazy{name: "repeat", repr: fmt.Sprintf("repeat(%s)", x), n: -1, iter: func() starlark.Iterator {
		return &funcIterator{next: func() (starlark.Value, bool) { return x, true }}
	}}
}

// cycleOf is cycle(iterable): the items, saved on the first pass, again
// and again; nothing if there are none.
func cycleOf(src starlark.Value) *lazy {
	return &lazy{name: "cycle", n: -1, iter: func() starlark.Iterator {
		it := pyiter.Iterate(src)
		var saved []starlark.Value
		i := -1 // index into saved once the source is used up
		return &funcIterator{
			next: func() (starlark.Value, bool) {
				if i < 0 {
					var x starlark.Value
					if it.Next(&x) {
						saved = append(saved, x)
						return x, true
					}
					it.Done()
					it = nil
					i = 0
				}
				if len(saved) == 0 {
					return nil, false
				}
				x := saved[i%len(saved)]
				i++
				return x, true
			},
			done: func() {
				if it != nil {
					it.Done()
				}
			},
		}
	}}
}
