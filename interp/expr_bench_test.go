package interp

import (
	"fmt"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// exprScript5000 is a 5,000-line script dense in the expressions the
// expression pass lowers: f-strings with specs, **, chains, "is",
// generator expressions, .format and %.
func exprScript5000() []byte {
	var b strings.Builder
	b.WriteString("from parsl.app.app import python_app\n")
	for i := 0; strings.Count(b.String(), "\n") < 5000; i++ {
		fmt.Fprintf(&b, `
@python_app
def f%d(x, y=2, items=None):
    """f%d: {x} ** {y}."""
    if items is None or not 0 < x <= 100:
        return f"{x:>10.3f} {y!r} {x ** y:,}"
    z = sum(v ** 2 for v in items if v is not None)
    label = "{:08.2f}|{}".format(z, "%%5d" %% x)
    return f"f%d: {label} {[i * 2 for i in range(3)]} {x=}" + ("a" "b") %% () if x %% 2 else label
`, i, i, i)
	}
	return []byte(b.String())
}

func TestExprLargeScript(t *testing.T) {
	t.Parallel()
	src := exprScript5000()
	if _, err := Parse("t.star", src, FileOptions(), Modules()); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkParseExprs5000Lines(b *testing.B) {
	src := exprScript5000()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse("t.star", src, FileOptions(), Modules()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileExprs5000Lines is what `starflow check` does with the
// script: lower, parse, resolve and compile.
func BenchmarkCompileExprs5000Lines(b *testing.B) {
	src := exprScript5000()
	predeclared := exprPredeclared()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		f, err := Parse("t.star", src, FileOptions(), Modules())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := starlark.FileProgram(f, predeclared.Has); err != nil {
			b.Fatal(err)
		}
	}
}
