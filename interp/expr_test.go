package interp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/format"
)

// exprPredeclared is what lowered expressions need: starflow's builtins
// and the _sf_ helpers.
func exprPredeclared() starlark.StringDict {
	p := Predeclared(nil)
	for k, v := range format.Builtins() {
		p[k] = v
	}
	if !p.Has("sum") {
		p["sum"] = testSum // until builtins has Python's sum
	}
	return p
}

var testSum = starlark.NewBuiltin("sum", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var it starlark.Iterable
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &it); err != nil {
		return nil, err
	}
	var total starlark.Value = starlark.MakeInt(0)
	iter := it.Iterate()
	defer iter.Done()
	var x starlark.Value
	for iter.Next(&x) {
		var err error
		if total, err = starlark.Binary(syntax.PLUS, total, x); err != nil {
			return nil, err
		}
	}
	return total, nil
})

// runExpr lowers, compiles and runs src, returning what it printed.
func runExpr(name, src string) (string, error) {
	f, err := Parse(name, []byte(src), FileOptions(), Modules())
	if err != nil {
		return "", err
	}
	predeclared := exprPredeclared()
	prog, err := starlark.FileProgram(f, predeclared.Has)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	thread := &starlark.Thread{Name: "test", Print: func(_ *starlark.Thread, msg string) {
		out.WriteString(msg)
		out.WriteByte('\n')
	}}
	_, err = prog.Init(thread, predeclared)
	return out.String(), err
}

// TestExprCorpus runs testdata/dialect/expr_*.star, Python scripts that
// print, and compares their output with the .out file beside each,
// written by CPython 3.11 (see testdata/dialect/gen_expr_out.sh).
func TestExprCorpus(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/dialect/expr_*.star")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(strings.TrimSuffix(file, ".star") + ".out")
			if err != nil {
				t.Fatal(err)
			}
			got, err := runExpr(filepath.Base(file), string(src))
			if err != nil {
				t.Fatalf("%s", FormatError(err))
			}
			if got != string(want) {
				gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
				for i := 0; i < len(gl) || i < len(wl); i++ {
					var g, w string
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Errorf("line %d:\n got %q\nwant %q", i+1, g, w)
					}
				}
			}
		})
	}
}

// TestExprLoweredText shows what the text step makes of each construct.
// The user's text stays in place, spaces included.
func TestExprLoweredText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ src, want string }{
		{`f"{a!r:>{w}} b{{c}}"`, `_sf_fstring("{0!r:>{1}} b{{c}}", (a), (w))`},
		{`f"{x=}" f'{y = :.2f}'`, `(_sf_fstring("x={0!r}", (x)) + _sf_fstring('y = {0:.2f}', (y )))`},
		{`rf"\d{n}" F"{{}}"`, `(_sf_fstring(r"\d{0}", (n)) + "{}")`},
		{`-2 ** -x ** 2`, `-_sf_pow(2 , -_sf_pow(x , 2))`},
		{`a.b(c)[d] ** 2`, `_sf_pow(a.b(c)[d] , 2)`},
		{`f(**kw, *a)`, `f(**kw, *a)`},
		{`x **= y + 1`, `x = _sf_pow(x, y + 1)`},
		{`a is None or b is not None`, `a == None or b !=     None`},
		{`a is b and c is not d`, `_sf_is(a , b) and (not _sf_is(c , d))`},
		{`0 < x <= 10`, `(0 < x  and x <= 10)`},
		{`a < f(b) not in c`, `_sf_chain(a , "<",  f(b) , "not in", lambda:  c)`},
		{`sum(x * x for x in xs)`, `sum([x * x for x in xs])`},
		{`(x for x in xs)`, `[x for x in xs]`},
		{`{x for x in xs} | {1, 2}`, `set([x for x in xs]) | set([1, 2])`},
		{`{k: v for k, v in d}, {}`, `{k: v for k, v in d}, {}`},
		{`u"a" B"b" "\d"`, `("a" + b"b" + "\\d")`},
		{`1_000 + 0x_ff`, `1000 + 0xff`},
		{`[x for x in y if x is not None]`, `[x for x in y if x !=     None]`},
	} {
		x := &exprLowering{src: []byte(tc.src)}
		x.lower(tokenize(x.src, 0, len(x.src), 0))
		e := &edits{src: x.src}
		for _, ed := range x.sorted() {
			e.replace(ed.off, ed.end, ed.text)
		}
		got, _ := e.apply()
		if string(got) != tc.want || x.err != nil {
			t.Errorf("%s\n got %s (error %v)\nwant %s", tc.src, got, x.err, tc.want)
		}
	}
}
