package star_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/interp"
	"github.com/starflow-hpc/starflow/stdlib/star"
)

// run compiles and runs src as a script that loads the libraries, and
// returns its globals and what it printed; err is as FormatError shows it.
func run(t *testing.T, src string) (starlark.StringDict, string, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "wf.star")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p, err := interp.Compile(path, nil, interp.WithLibraryPath(""))
	if err != nil {
		t.Fatal(interp.FormatError(err))
	}
	session := builtins.NewSession(context.Background(), builtins.Options{
		RunDirRoot: filepath.Join(dir, "runinfo"),
		Workers:    4,
		Stdout:     &out,
		Stderr:     &out,
		Logger:     hclog.NewNullLogger(),
	})
	globals, err := p.Exec(context.Background(), session)
	if _, ferr := session.Finish(); ferr != nil {
		t.Fatal(ferr)
	}
	errText := ""
	if err != nil {
		errText = strings.ReplaceAll(interp.FormatError(err), dir, "$DIR")
	}
	return globals, out.String(), errText
}

func mustRun(t *testing.T, src string) (starlark.StringDict, string) {
	t.Helper()
	g, out, errText := run(t, src)
	if errText != "" {
		t.Fatal(errText)
	}
	return g, out
}

func TestLibrariesCompile(t *testing.T) {
	t.Parallel()
	names, err := fs.Glob(star.FS(), "*.star")
	if err != nil || len(names) < 2 {
		t.Fatalf("embedded libraries: %v, %v", names, err)
	}
	for _, name := range names {
		src, err := fs.ReadFile(star.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := interp.CompileSource("@stdlib//"+name, src, nil, interp.WithLibraryPath("")); err != nil {
			t.Errorf("%s: %s", name, interp.FormatError(err))
		}
	}
}

func TestGrid(t *testing.T) {
	t.Parallel()
	g, _ := mustRun(t, `load("@stdlib//sweep.star", "grid")
points = grid({"a": [1, 2], "b": ("x", "y"), "c": range(1)})
empty = grid({})
none = grid({"a": [1], "b": []})
`)
	want := `[{"a": 1, "b": "x", "c": 0}, {"a": 1, "b": "y", "c": 0}, {"a": 2, "b": "x", "c": 0}, {"a": 2, "b": "y", "c": 0}]`
	if got := g["points"].String(); got != want {
		t.Errorf("grid = %s, want %s", got, want)
	}
	if got := g["empty"].String(); got != "[{}]" {
		t.Errorf("grid({}) = %s, want [{}] (one point, no parameters)", got)
	}
	if got := g["none"].String(); got != "[]" {
		t.Errorf("grid with an empty list = %s, want []", got)
	}
	_, _, errText := run(t, `load("@stdlib//sweep.star", "grid")
grid({"a": "abc"})
`)
	if !strings.HasPrefix(errText, `@stdlib//sweep.star:`) || !strings.Contains(errText, `grid: values of 'a': got string, want a list`) {
		t.Errorf("error: %s", errText)
	}
}

func TestRandomSweep(t *testing.T) {
	t.Parallel()
	g, _ := mustRun(t, `load("@stdlib//sweep.star", "random_sweep")
params = {"lr": (0.001, 0.1), "layers": (1, 3), "act": ["relu", "tanh"]}
a = random_sweep(params, 200, seed = 7)
b = random_sweep(params, 200, seed = 7)
c = random_sweep(params, 200, seed = 8)
zero = random_sweep(params, 0)

def check(points):
    seen = {"layers": {}, "act": {}}
    for p in points:
        if list(p.keys()) != ["lr", "layers", "act"]:
            fail("keys", p)
        if type(p["lr"]) != "float" or not (0.001 <= p["lr"] and p["lr"] < 0.1):
            fail("lr", p)
        if p["layers"] not in (1, 2, 3):
            fail("layers", p)
        seen["layers"][p["layers"]] = True
        seen["act"][p["act"]] = True
    return sorted(seen["layers"].keys()), sorted(seen["act"].keys())

ranges = check(a)
`)
	if g["a"].String() != g["b"].String() {
		t.Error("the same seed gave other points")
	}
	if g["a"].String() == g["c"].String() {
		t.Error("another seed gave the same points")
	}
	if got := g["zero"].String(); got != "[]" {
		t.Errorf("n = 0 gave %s", got)
	}
	// In 200 draws every int of 1..3 and both choices come up (the bounds
	// are inclusive for ints).
	if got := g["ranges"].String(); got != `([1, 2, 3], ["relu", "tanh"])` {
		t.Errorf("values drawn: %s", got)
	}
}

// The numbers are part of the contract: a sweep memoized yesterday must
// find its points again after an upgrade.
func TestRandomSweepIsStable(t *testing.T) {
	t.Parallel()
	g, _ := mustRun(t, `load("@stdlib//sweep.star", "random_sweep")
p = random_sweep({"i": (0, 1000000), "c": ["a", "b", "c"]}, 3, seed = 42)
`)
	// SplitMix64 from seed 42, as an independent Python version draws it.
	want := `[{"i": 422102, "c": "b"}, {"i": 154674, "c": "a"}, {"i": 878641, "c": "a"}]`
	if got := g["p"].String(); got != want {
		t.Errorf("random_sweep(seed = 42) = %s, want %s", got, want)
	}
}

func TestLatinHypercube(t *testing.T) {
	t.Parallel()
	g, _ := mustRun(t, `load("@stdlib//sweep.star", "latin_hypercube")
n = 50
bounds = {"x": (0, 10), "y": (-1.0, 1.0)}
a = latin_hypercube(bounds, n, seed = 3)
b = latin_hypercube(bounds, n, seed = 3)
c = latin_hypercube(bounds, n, seed = 4)

# Each of the n strata of each range holds exactly one point.
def strata(name):
    lo, hi = bounds[name]
    seen = [0] * n
    for p in a:
        v = p[name]
        if v < lo or v >= hi:
            fail("%s out of range: %r" % (name, v))
        seen[int((v - lo) / (hi - lo) * n)] += 1
    return seen

sx, sy = strata("x"), strata("y")
`)
	n := 50
	for _, name := range []string{"sx", "sy"} {
		want := "[" + strings.Repeat("1, ", n-1) + "1]"
		if got := g[name].String(); got != want {
			t.Errorf("%s: points per stratum %s, want one in each", name, got)
		}
	}
	if g["a"].String() != g["b"].String() {
		t.Error("the same seed gave other points")
	}
	if g["a"].String() == g["c"].String() {
		t.Error("another seed gave the same points")
	}
	_, _, errText := run(t, `load("@stdlib//sweep.star", "latin_hypercube")
latin_hypercube({"x": (2, 1)}, 5)
`)
	if !strings.Contains(errText, `latin_hypercube: bounds of 'x': lo 2 is above hi 1`) {
		t.Errorf("error: %s", errText)
	}
}

func TestMapReduce(t *testing.T) {
	t.Parallel()
	g, _ := mustRun(t, `load("@stdlib//mapreduce.star", "map_reduce")

@python_app
def square(x):
    return x * x

@python_app
def total(xs):
    s = 0
    for x in xs:
        s += x
    return s

@python_app
def count(xs):
    return len(xs)

r = map_reduce(square, total, range(100), chunk = 10).result()
one = map_reduce(square, total, [7]).result()
none = map_reduce(square, total, []).result()
# With 100 items and chunk 8 the tree has 13, then 2, then 1 reductions;
# the first level sees chunks of at most 8.
top = map_reduce(square, count, range(100), chunk = 8).result()
`)
	for name, want := range map[string]string{"r": "328350", "one": "49", "none": "0", "top": "2"} {
		if got := g[name].String(); got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	_, _, errText := run(t, `load("@stdlib//mapreduce.star", "map_reduce")
map_reduce(None, None, [1], chunk = 1)
`)
	if !strings.Contains(errText, "map_reduce: chunk: got 1, want an int >= 2") {
		t.Errorf("error: %s", errText)
	}
}
