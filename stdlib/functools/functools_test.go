package functools

import (
	"testing"

	"go.starlark.net/starlark"
)

func TestMergeKwargs(t *testing.T) {
	t.Parallel()
	kv := func(k string, v int) starlark.Tuple { return starlark.Tuple{starlark.String(k), starlark.MakeInt(v)} }
	got := mergeKwargs([]starlark.Tuple{kv("a", 1), kv("b", 2)}, []starlark.Tuple{kv("b", 3), kv("c", 4)})
	want := []starlark.Tuple{kv("a", 1), kv("b", 3), kv("c", 4)}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if eq, _ := starlark.Equal(got[i], want[i]); !eq {
			t.Errorf("item %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

func TestCacheEviction(t *testing.T) {
	t.Parallel()
	calls := 0
	square := starlark.NewBuiltin("square", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		calls++
		n, _ := starlark.AsInt32(args[0])
		return starlark.MakeInt(n * n), nil
	})
	c := newCached(square, 2)
	thread := &starlark.Thread{}
	for _, n := range []int{1, 2, 1, 3, 2, 1} { // 3 evicts 2 (1 was used after it); 2 then evicts 1
		if _, err := starlark.Call(thread, c, starlark.Tuple{starlark.MakeInt(n)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 5 || c.hits != 1 || c.order.Len() != 2 {
		t.Errorf("calls=%d hits=%d size=%d, want 5, 1, 2", calls, c.hits, c.order.Len())
	}
}
