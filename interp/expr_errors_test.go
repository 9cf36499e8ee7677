package interp

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// TestExprErrors checks that what the expression pass cannot lower, and
// what fails after lowering, is reported at the user's line and column
// with the user's text.
func TestExprErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src, want string // want: the first line of FormatError
	}{
		{"unterminated field", "x = 1\ny = f\"{x\"\n",
			`t.star:2:7: f-string: unterminated '{' in f"{x"`},
		{"empty field", "y = f'a{ }b'\n",
			`t.star:1:8: f-string: empty expression not allowed in f'a{ }b'`},
		{"single closing brace", "y = f\"a}b\"\n",
			`t.star:1:8: f-string: single '}' is not allowed in f"a}b"`},
		{"bad conversion", "x = 1\ny = f\"{x!z}\"\n",
			`t.star:2:10: f-string: invalid conversion character: expected 's', 'r', or 'a' in f"{x!z}"`},
		{"nested too deeply", "y = f\"{a:{b:{c}}}\"\n",
			`t.star:1:13: f-string: expressions nested too deeply in f"{a:{b:{c}}}"`},
		{"backslash in expression", "y = f\"{a \\ b}\"\n",
			`t.star:1:10: f-string: expression part cannot include a backslash in f"{a \ b}"`},
		{"comment in expression", "y = f\"{a#}\"\n",
			`t.star:1:9: f-string: expression part cannot include '#' in f"{a#}"`},
		{"long f-string is shortened", "y = f\"{a} and a long tail of text that goes on and on {\"\n",
			`t.star:1:55: f-string: unterminated '{' in f"{a} and a long tail of text that go...`},
		{"walrus", "xs = [1]\nif (n := len(xs)) > 0:\n    pass\n",
			`t.star:2:7: assignment expression (walrus) ":=" is not supported: assign the value on a line of its own before using it`},
		{"dict unpacking", "a = {}\nb = {**a, 'k': 1}\n",
			`t.star:2:6: dict unpacking "**" in a dict display is not supported: build the dict with dict(a, **b) or d.update(b)`},
		{"list unpacking", "a = []\nb = [0, *a]\n",
			`t.star:2:9: unpacking "*" in a display is not supported: concatenate instead (a + b, list(a) + [x])`},
		{"named escape", "s = 'a'\nt = '\\N{BULLET}'\n",
			`t.star:2:6: escapes by name (\N{...}) are not supported: write the character itself or \u and its code`},
		{"named escape in an f-string", "t = f'{1}\\N{BULLET}'\n",
			`t.star:1:10: escapes by name (\N{...}) are not supported: write the character itself or \u and its code`},
		{"undefined name in a field", "x = 1\ny = f\"{x:>4} {nope}\"\n",
			`t.star:2:15: undefined: nope`},
		{"undefined name after an f-string", "y = f\"{1}\" + f'{2}' + nope\n",
			`t.star:1:23: undefined: nope`},
		{"undefined name after **", "y = 2 ** 3 ** 2 + nope\n",
			`t.star:1:19: undefined: nope`},
		{"undefined name after a chain", "x = 1\ny = 0 < x < len([]) < 4 or nope\n",
			`t.star:2:28: undefined: nope`},
		{"parse error after lowering", "y = f\"{1}\" + + = 2\n",
			`t.star:1:16: got '=', want primary expression`},
		{"key error in a field", "d = {}\ns = f\"v: {d['k']}\"\n",
			`t.star:2:12: key "k" not in dict`},
		{"bad spec in a field", "s = f\"{'a':d}\"\n",
			`t.star:1:5: f-string: Unknown format code 'd' for object of type 'str'`},
		{"bad spec in format", "s = \"{:d}\".format(\"a\")\n",
			`t.star:1:18: format: Unknown format code 'd' for object of type 'str'`},
		{"bad percent", "s = \"%d\" % \"a\"\n",
			`t.star:1:10: %: %d format: a real number is required, not str`},
		{"bad pow", "x = 1\ny = \"a\" ** x\n",
			`t.star:2:5: **: unsupported operand type(s) for ** or pow(): 'str' and 'int'`},
		{"pow by a negative zero", "y = 0 ** -1\n",
			`t.star:1:5: **: 0.0 cannot be raised to a negative power`},
		{"error in a chained operand", "def f():\n    return 1 // 0\ny = 0 <= len([]) < f()\n",
			`t.star:2:14: floored division by zero`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := runExpr("t.star", tc.src)
			if err == nil {
				t.Fatalf("no error, want %s", tc.want)
			}
			got, _, _ := strings.Cut(FormatError(err), "\n")
			if got != tc.want {
				t.Errorf("src:\n%s\n got %s\nwant %s", tc.src, got, tc.want)
			}
		})
	}
}

// TestExprBacktraces checks the frames of runtime errors raised in and
// around lowered expressions.
func TestExprBacktraces(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		want      []string // in the backtrace
	}{
		{"error in a multi-line f-string field",
			"def label(d):\n    return f\"\"\"name: {d['name']}\n    size: {\n        d['size'] // 0}\"\"\"\nlabel({'name': 'x', 'size': 1})\n",
			[]string{"t.star:5:6: in <toplevel>", "t.star:4:19: in label", "floored division by zero"}},
		{"error in an f-string after another field, crlf",
			"import sys\r\n\r\ndef f(x):\r\n    return f\"{x:>{10 ** 2}}{x.nope}\"\r\nf(1)\r\n",
			[]string{"t.star:5:2: in <toplevel>", "t.star:4:30: in f", "int has no .nope field or method"}},
		{"error in a generator argument",
			"xs = [1, 0]\ny = sum(1 // x for x in xs)\n",
			[]string{"t.star:2:11: in <toplevel>", "floored division by zero"}},
		{"error in a later operand of a chain",
			"def f():\n    return 1 // 0\nok = 0 <= len([]) < f() < 5\n",
			[]string{"t.star:3:6: in <toplevel>", "t.star:3:22: in lambda", "t.star:2:14: in f"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := runExpr("t.star", tc.src)
			var evalErr *starlark.EvalError
			if !errors.As(err, &evalErr) {
				t.Fatalf("got %v, want an EvalError", err)
			}
			bt := evalErr.Backtrace()
			for _, want := range tc.want {
				if !strings.Contains(bt, want) {
					t.Errorf("backtrace lacks %q:\n%s", want, bt)
				}
			}
		})
	}
}

// TestExprPositionsInSource checks, over the corpus, that every position
// where a node of a lowered tree starts is on the user's text: a line
// of the file and a column of that line.
func TestExprPositionsInSource(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/dialect/expr_*.star")
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(file, src, FileOptions(), Modules())
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(src), "\n")
		syntax.Walk(f, func(n syntax.Node) bool {
			if n == nil {
				return false
			}
			// Ends are computed from lengths, which lowering changes;
			// starts are recorded.
			p, _ := n.Span()
			if p.IsValid() && (int(p.Line) > len(lines) || int(p.Col) > utf8.RuneCountInString(lines[p.Line-1])+1) {
				t.Errorf("%s: %T at %d:%d is outside the source", file, n, p.Line, p.Col)
			}
			return true
		})
	}
}

func TestKeywordsAfterStarArgs(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"xs = [1, 2]\nprint(*xs, sep = \"-\")\n", "1-2\n"},
		{"def f(*a, **k):\n    return (a, sorted(k.items()))\nprint(f(0, *[1], b = 2, a = f\"{3:>2}\"))\n", "((0, 1), [('a', ' 3'), ('b', 2)])\n"},
		{"print(*[1, 2], **{\"sep\": \"+\"})\n", "1+2\n"},
	} {
		var out strings.Builder
		p, err := CompileSource("k.py", []byte(tc.src), nil)
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		thread := &starlark.Thread{Print: func(_ *starlark.Thread, msg string) { out.WriteString(msg + "\n") }}
		if _, err := p.prog.Init(thread, p.predeclared); err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		if out.String() != tc.want {
			t.Errorf("%q printed %q, want %q", tc.src, out.String(), tc.want)
		}
	}
	_, err := CompileSource("k.py", []byte("print(*[1], sep = \"-\", **{})\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "k.py:1:13: keyword arguments between *args and **kwargs") {
		t.Errorf("err = %v", err)
	}
}
