package interp

import (
	"encoding/json"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/builtins"
)

const bundleSrc = `SCALE = 3
NAMES = {"a": [1, 2]}
double = lambda x: 2 * x

def helper(x):
    return double(x) * SCALE

def unrelated():
    return SCALE + 100

@python_app
def app(x, key = "a"):
    if x < 0:
        return 1 // 0
    return helper(x) + len(NAMES[key])

print("top level runs only where the script runs")
`

// compileAndRun compiles src and runs it with plain Starlark (apps are
// App values; their functions are what travels).
func compileAndRun(t *testing.T, src string) (*Program, starlark.StringDict) {
	t.Helper()
	p, err := CompileSource("b.star", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	globals, err := p.prog.Init(&starlark.Thread{Print: func(*starlark.Thread, string) {}}, p.predeclared)
	if err != nil {
		t.Fatal(err)
	}
	return p, globals
}

func TestBundleRunsElsewhere(t *testing.T) {
	p, globals := compileAndRun(t, bundleSrc)
	fn := globals["app"].(*builtins.App).Function()
	b, err := p.Bundle(fn)
	if err != nil {
		t.Fatal(err)
	}
	var d bundleData
	if err := json.Unmarshal(b.Data, &d); err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"unrelated", "print(", "python_app"} {
		if strings.Contains(d.Source, absent) {
			t.Errorf("bundle source holds %q:\n%s", absent, d.Source)
		}
	}
	if got := strings.Count(d.Source, "\n"); got != strings.Count(bundleSrc, "\n") {
		t.Errorf("bundle has %d lines, the script %d: line numbers moved", got, strings.Count(bundleSrc, "\n"))
	}
	if names := d.constNames(); strings.Join(names, ",") != "NAMES,SCALE" {
		t.Errorf("constants %v", names)
	}

	// On the "worker": nothing but the bundle.
	thread := &starlark.Thread{}
	remote, err := LoadBundle(b.Data, Predeclared(nil), thread)
	if err != nil {
		t.Fatal(err)
	}
	v, err := starlark.Call(thread, remote, starlark.Tuple{starlark.MakeInt(5)}, nil)
	if err != nil || v.String() != "32" {
		t.Fatalf("remote app(5) = %v, %v; want 32", v, err)
	}
	_, err = starlark.Call(thread, remote, starlark.Tuple{starlark.MakeInt(-1)}, nil)
	ev, ok := err.(*starlark.EvalError)
	if !ok || !strings.Contains(ev.Backtrace(), "b.star:14:") {
		t.Errorf("remote error does not point at the user's line 14: %v", err)
	}

	// Same code, same hash; an edit the app reaches, another hash.
	b2, _ := p.Bundle(fn)
	if b2.Hash != b.Hash {
		t.Error("bundle hash is not stable")
	}
	p3, g3 := compileAndRun(t, strings.Replace(bundleSrc, "SCALE = 3", "SCALE = 4", 1))
	b3, err := p3.Bundle(g3["app"].(*builtins.App).Function())
	if err != nil {
		t.Fatal(err)
	}
	if b3.Hash == b.Hash {
		t.Error("a constant's new value did not change the bundle")
	}
}

func TestBundleRefusesWhatCannotTravel(t *testing.T) {
	p, globals := compileAndRun(t, `
def f(x):
    return x + len(CFG)

CFG = ThreadPoolExecutor(max_threads = 1)
`)
	_, err := p.Bundle(globals["f"].(*starlark.Function))
	if err == nil || !strings.Contains(err.Error(), "global CFG (a ThreadPoolExecutor) cannot travel") {
		t.Errorf("err = %v", err)
	}
}
