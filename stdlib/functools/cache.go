package functools

import (
	"container/list"
	"fmt"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

func cache(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fn starlark.Callable
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &fn); err != nil {
		return nil, err
	}
	return newCached(fn, -1), nil
}

// lruCache is lru_cache(maxsize=128, typed=False) returning a decorator,
// or lru_cache(func) decorating at once.
func lruCache(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 1 && len(kwargs) == 0 {
		if fn, ok := args[0].(starlark.Callable); ok {
			return newCached(fn, 128), nil
		}
	}
	var maxsize starlark.Value = starlark.MakeInt(128)
	var typed bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "maxsize?", &maxsize, "typed?", &typed); err != nil {
		return nil, err
	}
	size := -1
	if maxsize != starlark.None {
		n, err := starlark.AsInt32(maxsize)
		if err != nil {
			return nil, pyerr.New("TypeError", b.Name(), "Expected first argument to be an integer, a callable, or None")
		}
		size = max(n, 0)
	}
	return starlark.NewBuiltin("functools.lru_cache.decorator", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var fn starlark.Callable
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &fn); err != nil {
			return nil, err
		}
		return newCached(fn, size), nil
	}), nil
}

// cached is a memoized function. Entries are kept in use order for the
// LRU bound; maxsize < 0 is unbounded.
type cached struct {
	fn      starlark.Callable
	maxsize int

	mu     sync.Mutex
	order  *list.List // of *entry, most recently used first
	byKey  *starlark.Dict
	hits   int
	misses int
}

type entry struct {
	key   starlark.Value
	value starlark.Value
}

var (
	_ starlark.Callable = (*cached)(nil)
	_ starlark.HasAttrs = (*cached)(nil)
)

func newCached(fn starlark.Callable, maxsize int) *cached {
	return &cached{fn: fn, maxsize: maxsize, order: list.New(), byKey: new(starlark.Dict)}
}

func (c *cached) String() string        { return c.fn.String() }
func (c *cached) Type() string          { return "function" }
func (c *cached) Name() string          { return c.fn.Name() }
func (c *cached) Freeze()               { c.fn.Freeze() }
func (c *cached) Truth() starlark.Bool  { return true }
func (c *cached) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: function") }

// key is the arguments as one hashable value.
func key(args starlark.Tuple, kwargs []starlark.Tuple) starlark.Value {
	if len(kwargs) == 0 {
		return args
	}
	k := append(starlark.Tuple(nil), args...)
	k = append(k, starlark.String("\x00kwargs"))
	for _, kv := range kwargs {
		k = append(k, kv)
	}
	return k
}

func (c *cached) CallInternal(thread *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	k := key(args, kwargs)
	if _, err := k.Hash(); err != nil {
		return nil, pyerr.New("TypeError", c.Name(), "%v", err)
	}
	c.mu.Lock()
	if e, found, _ := c.byKey.Get(k); found {
		el := e.(*elem).el
		c.order.MoveToFront(el)
		c.hits++
		v := el.Value.(*entry).value
		c.mu.Unlock()
		return v, nil
	}
	c.misses++
	c.mu.Unlock()

	// Call without the lock, so that a recursive function can use its
	// own cache (as Python's lru_cache allows).
	v, err := starlark.Call(thread, c.fn, args, kwargs)
	if err != nil {
		return nil, err
	}
	v.Freeze()
	k.Freeze()

	c.mu.Lock()
	defer c.mu.Unlock()
	if _, found, _ := c.byKey.Get(k); found || c.maxsize == 0 {
		return v, nil
	}
	el := c.order.PushFront(&entry{key: k, value: v})
	c.byKey.SetKey(k, &elem{el: el})
	if c.maxsize > 0 && c.order.Len() > c.maxsize {
		last := c.order.Back()
		c.order.Remove(last)
		c.byKey.Delete(last.Value.(*entry).key)
	}
	return v, nil
}

// elem holds a list element in the dict of keys; it is never seen by
// scripts.
type elem struct{ el *list.Element }

func (e *elem) String() string        { return "<cache entry>" }
func (e *elem) Type() string          { return "cache_entry" }
func (e *elem) Freeze()               {}
func (e *elem) Truth() starlark.Bool  { return true }
func (e *elem) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable") }

func (c *cached) AttrNames() []string { return []string{"__wrapped__", "cache_clear", "cache_info"} }

func (c *cached) Attr(name string) (starlark.Value, error) {
	switch name {
	case "__wrapped__":
		return c.fn, nil
	case "cache_info":
		return starlark.NewBuiltin("cache_info", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			var maxsize starlark.Value = starlark.None
			if c.maxsize >= 0 {
				maxsize = starlark.MakeInt(c.maxsize)
			}
			return cacheInfo(c.hits, c.misses, maxsize, c.order.Len()), nil
		}), nil
	case "cache_clear":
		return starlark.NewBuiltin("cache_clear", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.order.Init()
			c.byKey = new(starlark.Dict)
			c.hits, c.misses = 0, 0
			return starlark.None, nil
		}), nil
	}
	return nil, nil
}

// cacheInfo is cache_info()'s CacheInfo(hits, misses, maxsize, currsize).
func cacheInfo(hits, misses int, maxsize starlark.Value, currsize int) starlark.Value {
	return starlarkstruct.FromStringDict(starlark.String("CacheInfo"), starlark.StringDict{
		"hits": starlark.MakeInt(hits), "misses": starlark.MakeInt(misses),
		"maxsize": maxsize, "currsize": starlark.MakeInt(currsize),
	})
}
