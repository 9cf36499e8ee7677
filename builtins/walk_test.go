package builtins

import (
	"errors"
	"slices"
	"testing"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/dfk"
)

func settled(id int, v starlark.Value) *AppFuture {
	return &AppFuture{fut: dfk.NewSettled(id, "app", v, nil)}
}

func ids(fs []*dfk.Future) []int {
	out := make([]int, len(fs))
	for i, f := range fs {
		out[i] = f.ID()
	}
	return out
}

func dict(kvs ...starlark.Value) *starlark.Dict {
	d := starlark.NewDict(len(kvs) / 2)
	for i := 0; i < len(kvs); i += 2 {
		if err := d.SetKey(kvs[i], kvs[i+1]); err != nil {
			panic(err)
		}
	}
	return d
}

func set(xs ...starlark.Value) *starlark.Set {
	s := new(starlark.Set)
	for _, x := range xs {
		if err := s.Insert(x); err != nil {
			panic(err)
		}
	}
	return s
}

func list(xs ...starlark.Value) *starlark.List { return starlark.NewList(xs) }

func TestCollectFutures(t *testing.T) {
	t.Parallel()
	f0, f1, f2, f3 := settled(0, starlark.MakeInt(10)), settled(1, starlark.MakeInt(11)), settled(2, starlark.MakeInt(12)), settled(3, starlark.MakeInt(13))
	file, _ := NewFile("out.txt")
	df := &DataFuture{parent: f3.fut, file: file}
	tests := []struct {
		name  string
		v     starlark.Value
		want  []int
		found bool
	}{
		{"plain value", starlark.MakeInt(1), nil, false},
		{"empty list", list(), nil, false},
		{"future", f0, []int{0}, true},
		{"data future is its task", df, []int{3}, true},
		{"list in order", list(f2, starlark.None, f0), []int{2, 0}, true},
		{"tuple", starlark.Tuple{f1, f2}, []int{1, 2}, true},
		{"nested", list(starlark.Tuple{list(f0)}, dict(starlark.String("k"), list(f1))), []int{0, 1}, true},
		{"dict keys and values", dict(f0, f1), []int{0, 1}, true},
		{"set", set(f2), []int{2}, true},
		{"duplicates kept", list(f0, f0), []int{0, 0}, true},
		{"no futures deep down", list(list(list(starlark.String("x")))), nil, false},
	}
	for _, tt := range tests {
		deps, found := collectFutures(tt.v, nil)
		if found != tt.found || !slices.Equal(ids(deps), tt.want) {
			t.Errorf("%s: got %v, %v; want %v, %v", tt.name, ids(deps), found, tt.want, tt.found)
		}
	}

	// Positional arguments and keyword values accumulate in call order.
	deps, found := collectSeq(starlark.Tuple{f1, starlark.MakeInt(0), list(f0)}, nil)
	deps, _ = collectFutures(dict(starlark.String("x"), f2), deps)
	if !found || !slices.Equal(ids(deps), []int{1, 0, 2}) {
		t.Errorf("args then kwargs: got %v, %v; want [1 0 2], true", ids(deps), found)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	f0, f1 := settled(0, starlark.String("zero")), settled(1, starlark.MakeInt(1))
	file, _ := NewFile("out.txt")
	df := &DataFuture{parent: f1.fut, file: file}
	s := func(x string) starlark.Value { return starlark.String(x) }
	tests := []struct {
		name string
		in   starlark.Value
		want starlark.Value
	}{
		{"future", f0, s("zero")},
		{"data future is its file", df, file},
		{"list", list(f0, s("a")), list(s("zero"), s("a"))},
		{"tuple", starlark.Tuple{f1, f0}, starlark.Tuple{starlark.MakeInt(1), s("zero")}},
		{"dict key and value", dict(f1, f0), dict(starlark.MakeInt(1), s("zero"))},
		{"set", set(f0, s("a")), set(s("zero"), s("a"))},
		{"nested", list(starlark.Tuple{dict(s("k"), list(f1))}), list(starlark.Tuple{dict(s("k"), list(starlark.MakeInt(1)))})},
		{"a future settled with None", settled(5, starlark.None), starlark.None},
	}
	for _, tt := range tests {
		got, err := resolve(tt.in)
		if err != nil {
			t.Errorf("%s: resolve(%s): %v", tt.name, tt.in, err)
			continue
		}
		if eq, err := starlark.Equal(got, tt.want); err != nil || !eq {
			t.Errorf("%s: resolve(%s) = %s, want %s (%v)", tt.name, tt.in, got, tt.want, err)
		}
		if hasFutures(got) {
			t.Errorf("%s: resolve(%s) = %s still holds futures", tt.name, tt.in, got)
		}
	}
}

// A container is copied only when it holds futures: the copy crosses to
// the task's goroutine frozen, and the caller's value is left as it was.
func TestResolveCopies(t *testing.T) {
	t.Parallel()
	f := settled(0, starlark.MakeInt(7))
	plain := list(starlark.MakeInt(1), list(starlark.MakeInt(2)))
	if got, _ := resolve(plain); got != plain {
		t.Errorf("resolve of a list without futures made a copy")
	}
	args := starlark.Tuple{plain, starlark.MakeInt(3)}
	if got, _ := resolveTuple(args); &got[0] != &args[0] {
		t.Errorf("resolveTuple of arguments without futures made a copy")
	}

	withFut := list(f, plain)
	v, err := resolve(withFut)
	if err != nil {
		t.Fatal(err)
	}
	got := v.(*starlark.List)
	if got == withFut {
		t.Fatal("resolve of a list with futures did not copy it")
	}
	if withFut.Index(0) != f {
		t.Errorf("resolve changed the caller's list: %s", withFut)
	}
	if err := got.Append(starlark.None); err == nil {
		t.Errorf("the resolved copy is not frozen")
	}
	if got.Index(1) != plain {
		t.Errorf("an inner list without futures was copied")
	}
}

// resolve is called only once every future succeeded; a failed one (which
// the kernel never lets through) resolves to None rather than panicking.
func TestResolveFailedFutureIsNone(t *testing.T) {
	t.Parallel()
	bad := &AppFuture{fut: dfk.NewSettled(0, "app", nil, errors.New("boom"))}
	if got, err := resolve(bad); got != starlark.None || err != nil {
		t.Errorf("resolve of a failed future = %v, %v; want None", got, err)
	}
}

// A future is hashable but its value may not be: as a dict key or set
// element it is the app's TypeError, not a silently dropped entry.
func TestResolveUnhashable(t *testing.T) {
	t.Parallel()
	f := settled(0, list(starlark.MakeInt(1)))
	for _, in := range []starlark.Value{dict(f, starlark.None), set(f), starlark.Tuple{list(set(f))}} {
		_, err := resolve(in)
		if err == nil {
			t.Errorf("resolve(%s) succeeded, want an error", in)
			continue
		}
		if kind := errorKind(err); kind != "TypeError" {
			t.Errorf("resolve(%s): error kind %s, want TypeError (%v)", in, kind, err)
		}
	}
}
