package json

import (
	"math"
	"testing"

	"go.starlark.net/starlark"
)

func TestFloatRepr(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		f    float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{0.1, "0.1"},
		{1e16, "1e+16"},
		{9999999999999998, "9999999999999998.0"},
		{1e15, "1000000000000000.0"},
		{1234567.5, "1234567.5"},
		{0.0001, "0.0001"},
		{0.00001, "1e-05"},
		{1.5e-7, "1.5e-07"},
		{1e100, "1e+100"},
		{-2.5e22, "-2.5e+22"},
		{5e-324, "5e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
	} {
		if got := FloatRepr(tt.f); got != tt.want {
			t.Errorf("FloatRepr(%v) = %s, want %s", tt.f, got, tt.want)
		}
	}
}

func TestDumps(t *testing.T) {
	t.Parallel()
	kw := func(k string, v starlark.Value) []starlark.Tuple { return []starlark.Tuple{{starlark.String(k), v}} }
	d := starlark.NewDict(2)
	d.SetKey(starlark.String("b"), starlark.NewList([]starlark.Value{starlark.MakeInt(1)}))
	d.SetKey(starlark.String("a"), starlark.None)
	for _, tt := range []struct {
		v      starlark.Value
		kwargs []starlark.Tuple
		want   string
	}{
		{d, nil, `{"b": [1], "a": null}`},
		{d, kw("sort_keys", starlark.True), `{"a": null, "b": [1]}`},
		{d, kw("indent", starlark.MakeInt(2)), "{\n  \"b\": [\n    1\n  ],\n  \"a\": null\n}"},
		{d, kw("separators", starlark.Tuple{starlark.String(","), starlark.String(":")}), `{"b":[1],"a":null}`},
		{starlark.String("\x7f\u2028"), nil, `"\u007f\u2028"`},
		{starlark.String("\x7f"), kw("ensure_ascii", starlark.False), "\"\x7f\""},
		{starlark.String("\x1f"), kw("ensure_ascii", starlark.False), `"\u001f"`},
		{starlark.Tuple{}, nil, "[]"},
	} {
		got, err := Dumps(&starlark.Thread{}, "json.dumps", tt.v, tt.kwargs)
		if err != nil || got != tt.want {
			t.Errorf("dumps(%v, %v) = %q, %v; want %q", tt.v, tt.kwargs, got, err, tt.want)
		}
	}
}
