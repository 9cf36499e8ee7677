package codec

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// eval evaluates a Starlark expression, so test values read like scripts.
func eval(t testing.TB, expr string) starlark.Value {
	t.Helper()
	v, err := starlark.EvalOptions(&syntax.FileOptions{Set: true}, &starlark.Thread{}, "<test>", expr, starlark.StringDict{"set": starlark.Universe["set"]})
	if err != nil {
		t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

var roundTrips = []string{
	`None`, `True`, `False`, `0`, `-1`, `1 << 62`, `-(1 << 63)`, `1 << 64`, `-(1 << 200) + 7`,
	`0.0`, `-0.0`, `1.5`, `float("inf")`, `float("-inf")`, `1e308`,
	`""`, `"héllo ☃"`, `b"\x00\xff"`, `[]`, `()`, `(1,)`, `[1, [2, (3, {"a": None})]]`,
	`{}`, `{"b": 1, "a": 2, 3: [4]}`, `set([1, "x", (2, 3)])`, `{(1, 2): {"n": set()}}`,
}

func TestRoundTrip(t *testing.T) {
	c := New()
	for _, src := range roundTrips {
		v := eval(t, src)
		data, err := c.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		got, err := c.Unmarshal(data)
		if err != nil {
			t.Fatalf("%s: unmarshal: %v", src, err)
		}
		if got.Type() != v.Type() || got.String() != v.String() {
			t.Errorf("%s: round trip gave %s %s", src, got.Type(), got)
		}
		again, _ := c.Marshal(got)
		if !bytes.Equal(again, data) {
			t.Errorf("%s: re-encoding differs", src)
		}
		if got.Truth() != v.Truth() {
			t.Errorf("%s: truth differs", src)
		}
	}
}

func TestNaN(t *testing.T) {
	c := New()
	a, _ := c.Marshal(starlark.Float(math.NaN()))
	b, _ := c.Marshal(starlark.Float(math.Float64frombits(0x7ff8dead00000000)))
	if !bytes.Equal(a, b) {
		t.Error("NaNs with different payloads encode differently")
	}
	v, err := c.Unmarshal(a)
	if err != nil || !math.IsNaN(float64(v.(starlark.Float))) {
		t.Errorf("NaN round trip: %v %v", v, err)
	}
}

func TestCanonical(t *testing.T) {
	c := New()
	key := func(src string) []byte {
		b, err := c.AppendKey(nil, eval(t, src))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	same := [][2]string{
		{`{"a": 1, "b": 2}`, `{"b": 2, "a": 1}`},
		{`set([3, 1, 2])`, `set([2, 3, 1])`},
		{`{1: set(["x", "y"])}`, `{1: set(["y", "x"])}`},
		{`1 << 70 >> 70`, `1`},
	}
	for _, p := range same {
		if !bytes.Equal(key(p[0]), key(p[1])) {
			t.Errorf("%s and %s encode differently", p[0], p[1])
		}
	}
	differ := [][2]string{
		{`1`, `1.0`}, {`"a"`, `b"a"`}, {`(1,)`, `[1]`}, {`0.0`, `-0.0`},
		{`1 << 64`, `(1 << 64) + 1`}, {`{"a": 1}`, `{"a": 1.0}`}, {`[]`, `{}`}, {`set()`, `[]`},
		{`-(1 << 64)`, `1 << 64`}, {`""`, `None`},
	}
	for _, p := range differ {
		if bytes.Equal(key(p[0]), key(p[1])) {
			t.Errorf("%s and %s encode the same", p[0], p[1])
		}
	}
}

func TestUnsupported(t *testing.T) {
	c := New()
	v := eval(t, `[1, {"f": len}]`)
	_, err := c.Marshal(v)
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.Type != "builtin_function_or_method" || ue.Path != `[1]["f"]` {
		t.Fatalf("err = %v (%#v)", err, ue)
	}
	if !strings.Contains(err.Error(), "builtin_function_or_method") {
		t.Errorf("message %q does not name the type", err)
	}
}

func TestCyclic(t *testing.T) {
	l := starlark.NewList(nil)
	_ = l.Append(l)
	if _, err := New().Marshal(l); err == nil {
		t.Fatal("cyclic list encoded")
	}
}

// point is a host type carried by an extension.
type point struct{ starlark.Tuple }

func (p point) Type() string { return "point" }

func TestExtension(t *testing.T) {
	ext := Extension{
		Name: "point",
		Encode: func(v starlark.Value) ([]byte, bool) {
			p, ok := v.(point)
			if !ok {
				return nil, false
			}
			return []byte(p.Tuple.String()), true
		},
		Decode: func(b []byte) (starlark.Value, error) {
			return point{starlark.Tuple{starlark.String(b)}}, nil
		},
	}
	c := New(ext)
	data, err := c.Marshal(starlark.NewList([]starlark.Value{point{starlark.Tuple{starlark.MakeInt(1)}}}))
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(*starlark.List).Index(0).Type(); got != "point" {
		t.Errorf("decoded %s", got)
	}
	if _, err := New().Unmarshal(data); !errors.Is(err, ErrCorrupt) {
		t.Errorf("unknown extension: %v", err)
	}
}

func TestCorrupt(t *testing.T) {
	c := New()
	data, _ := c.Marshal(eval(t, `{"a": [1, 2.5, "x"], "b": b"y"}`))
	for i := 1; i < len(data); i++ {
		if _, err := c.Unmarshal(data[:i]); err == nil {
			t.Errorf("truncated at %d decoded", i)
		}
	}
	if _, err := c.Unmarshal([]byte{Version + 1, tagNone}); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("newer version: %v", err)
	}
	huge := append([]byte{Version, tagList}, 0xff, 0xff, 0xff, 0xff, 0x0f)
	if _, err := c.Unmarshal(huge); !errors.Is(err, ErrCorrupt) {
		t.Errorf("forged count: %v", err)
	}
}

func TestBigIntBoundaries(t *testing.T) {
	c := New()
	for _, s := range []string{"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809"} {
		b, _ := new(big.Int).SetString(s, 10)
		data, err := c.Marshal(starlark.MakeBigInt(b))
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.Unmarshal(data)
		if err != nil || v.String() != s {
			t.Errorf("%s: got %v, %v", s, v, err)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	c := New()
	for _, src := range roundTrips {
		data, err := c.Marshal(eval(f, src))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := c.Unmarshal(data)
		if err != nil {
			return
		}
		// Whatever decodes must encode again and decode to the same thing.
		again, err := c.Marshal(v)
		if err != nil {
			t.Fatalf("decoded %s but cannot encode it: %v", v.Type(), err)
		}
		w, err := c.Unmarshal(again)
		if err != nil || w.String() != v.String() {
			t.Fatalf("re-decode: %v %v", w, err)
		}
	})
}

func BenchmarkMarshalSmall(b *testing.B) {
	c := New()
	v := eval(b, `{"alpha": 0.5, "beta": 10, "name": "run-17", "tags": ["a", "b"]}`)
	b.ReportAllocs()
	var buf []byte
	for i := 0; i < b.N; i++ {
		buf, _ = c.AppendKey(buf[:0], v)
	}
}

func BenchmarkUnmarshalSmall(b *testing.B) {
	c := New()
	data, _ := c.Marshal(eval(b, `{"alpha": 0.5, "beta": 10, "name": "run-17", "tags": ["a", "b"]}`))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, _ = c.Unmarshal(data)
	}
}
