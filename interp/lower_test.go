package interp

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// dialectOpts are the file options a Parsl-style script runs with.
var dialectOpts = &syntax.FileOptions{
	Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true,
}

var testModules = ModuleTable{
	"parsl":         {Value: "parsl", Names: map[string]string{"python_app": "python_app", "bash_app": "bash_app"}},
	"parsl.app.app": {Names: map[string]string{"python_app": "python_app", "bash_app": "bash_app"}},
	"parsl.config":  {Names: map[string]string{"Config": "Config"}},
	"json":          {Value: "json_mod"},
	"json.tool":     {},
	"stats":         {Names: map[string]string{"mean": "stats_mean", "tag": "tag"}},
}

// wrap stands for what an app decorator returns: a callable named after the
// decorator and the function it wraps.
func wrap(label string, fn starlark.Callable) *starlark.Builtin {
	return starlark.NewBuiltin(label+"["+fn.Name()+"]",
		func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return starlark.Call(th, fn, args, kwargs)
		})
}

// decorator returns a builtin that wraps its one callable argument.
func decorator(label string) *starlark.Builtin {
	return starlark.NewBuiltin(label,
		func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var fn starlark.Callable
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &fn); err != nil {
				return nil, err
			}
			return wrap(label, fn), nil
		})
}

// pythonApp works bare (@python_app) and called (@python_app(cache=True)).
var pythonApp = starlark.NewBuiltin("python_app",
	func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(args) == 1 && len(kwargs) == 0 {
			if fn, ok := args[0].(starlark.Callable); ok {
				return wrap("python_app", fn), nil
			}
		}
		var opts []string
		for _, kv := range kwargs {
			opts = append(opts, fmt.Sprintf("%s=%s", kv[0].(starlark.String).GoString(), kv[1]))
		}
		return decorator("python_app(" + strings.Join(opts, ",") + ")"), nil
	})

func testPredeclared() starlark.StringDict {
	tag := starlark.NewBuiltin("tag",
		func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var label string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &label); err != nil {
				return nil, err
			}
			return decorator("tag(" + label + ")"), nil
		})
	boom := starlark.NewBuiltin("boom",
		func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return nil, errors.New("boom: no executors")
		})
	return starlark.StringDict{
		"python_app": pythonApp,
		"bash_app":   decorator("bash_app"),
		"tag":        tag,
		"boom":       boom,
		"Config":     starlark.String("Config"),
		"stats_mean": starlark.String("stats.mean"),
		"json_mod":   &starlarkstruct.Module{Name: "json", Members: starlark.StringDict{}},
		"parsl": &starlarkstruct.Module{Name: "parsl", Members: starlark.StringDict{
			"python_app": pythonApp,
		}},
		"__name__": starlark.String("__main__"),
	}
}

// run parses src with Parse, resolves and compiles it, and runs it.
func run(src string, opts *syntax.FileOptions) (starlark.StringDict, error) {
	f, err := Parse("t.star", []byte(src), opts, testModules)
	if err != nil {
		return nil, err
	}
	predeclared := testPredeclared()
	prog, err := starlark.FileProgram(f, predeclared.Has)
	if err != nil {
		return nil, err
	}
	return prog.Init(&starlark.Thread{Name: "test"}, predeclared)
}

func TestParseLowersDialect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		want      map[string]string // global -> its String()
	}{
		{"bare decorator",
			"@python_app\ndef f(x):\n    return x * 2\nr = f(2)\n",
			map[string]string{"f": "<built-in function python_app[f]>", "r": "4"}},
		{"called decorator",
			"@python_app(cache=True)\ndef f():\n    return 1\n",
			map[string]string{"f": "<built-in function python_app(cache=True)[f]>"}},
		{"decorator over several lines",
			"@python_app(\n    executors=[\"cpu\"],  # where\n)\ndef f():\n    return 1\n",
			map[string]string{"f": `<built-in function python_app(executors=["cpu"])[f]>`}},
		{"stacked decorators apply bottom up",
			"@tag(\"a\")\n@tag(\"b\")\ndef f():\n    return 1\nr = f()\n",
			map[string]string{"f": "<built-in function tag(a)[tag(b)[f]]>", "r": "1"}},
		{"dotted decorator",
			"@parsl.python_app\ndef f():\n    pass\n",
			map[string]string{"f": "<built-in function python_app[f]>"}},
		{"parenthesised and conditional decorators",
			"@(python_app)\ndef f():\n    pass\n@tag(\"a\") if True else None\ndef g():\n    pass\n",
			map[string]string{"f": "<built-in function python_app[f]>", "g": "<built-in function tag(a)[g]>"}},
		{"comments and blank lines before the def",
			"@python_app\n# why\n\ndef f():\n    pass\n",
			map[string]string{"f": "<built-in function python_app[f]>"}},
		{"decorator inside a def",
			"def outer():\n    @python_app\n    def inner():\n        return 3\n    return inner\ng = outer()\nr = g()\n",
			map[string]string{"g": "<built-in function python_app[inner]>", "r": "3"}},
		{"decorator inside if and for",
			"if True:\n    @python_app\n    def f():\n        pass\nfor i in [1]:\n    @tag(\"x\")\n    def g():\n        pass\n",
			map[string]string{"f": "<built-in function python_app[f]>", "g": "<built-in function tag(x)[g]>"}},
		{"recursion calls the decorated function",
			"@tag(\"t\")\ndef fact(n):\n    return 1 if n <= 1 else n * fact(n - 1)\nr = fact(5)\n",
			map[string]string{"r": "120"}},
		{"at signs in strings and comments untouched",
			"s = \"@python_app\"\nt = '''\n@python_app\nimport numpy\n'''\n# @python_app\nu = r'\\'@x'\n",
			map[string]string{"s": `"@python_app"`, "t": `"\n@python_app\nimport numpy\n"`, "u": `"\\'@x"`}},
		{"dunder main untouched",
			"r = 0\nif __name__ == \"__main__\":\n    r = 1\n",
			map[string]string{"r": "1"}},
		{"import of a predeclared module binds nothing",
			"import parsl\nf = parsl.python_app\n",
			map[string]string{"f": "<built-in function python_app>"}},
		{"import binds a module under another global",
			"import json\nimport json as j, parsl as p\n",
			map[string]string{"json": `<module "json">`, "j": `<module "json">`, "p": `<module "parsl">`}},
		{"dotted import binds the first component",
			"import json.tool\nimport parsl.app.app\nx = parsl\n",
			map[string]string{"json": `<module "json">`, "x": `<module "parsl">`}},
		{"from import with aliases",
			"from parsl.app.app import python_app, bash_app as bapp\nfrom parsl.config import Config\n",
			map[string]string{"bapp": "<built-in function bash_app>"}},
		{"parenthesised from import over lines",
			"from parsl.app.app import (\n    python_app as pa,  # why\n    bash_app,\n)\n@pa\ndef f():\n    pass\n",
			map[string]string{"pa": "<built-in function python_app>", "f": "<built-in function python_app[f]>"}},
		{"from import star",
			"from stats import *\n",
			map[string]string{"mean": `"stats.mean"`}},
		{"imports in function bodies",
			"def f():\n    import json\n    return json\ndef g():\n    import parsl\ndef h():\n    from stats import mean as m\n    return m\nr = f()\ns = g()\nt = h()\n",
			map[string]string{"r": `<module "json">`, "s": "None", "t": `"stats.mean"`}},
		{"imports after colon and semicolon",
			"if True: import json\nimport parsl; import json as j; x = 1\n",
			map[string]string{"json": `<module "json">`, "j": `<module "json">`, "x": "1"}},
		{"unicode before an import keeps columns",
			"s = 'héllo'; import json as j\n",
			map[string]string{"s": `"héllo"`, "j": `<module "json">`}},
		{"crlf line endings",
			"import json as j\r\n@python_app\r\ndef f():\r\n    pass\r\n",
			map[string]string{"j": `<module "json">`, "f": "<built-in function python_app[f]>"}},
		{"fast path",
			"x = 1\ny = x + 1\n",
			map[string]string{"y": "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			globals, err := run(tc.src, dialectOpts)
			if err != nil {
				t.Fatalf("run:\n%s\nerror: %v", tc.src, err)
			}
			for name, want := range tc.want {
				v, ok := globals[name]
				if !ok {
					t.Errorf("global %s not set; have %v", name, globals.Keys())
					continue
				}
				if got := v.String(); got != want {
					t.Errorf("%s = %s, want %s", name, got, want)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	const unknown = `: starflow runs Starlark, not Python; call a Python script from a bash_app instead`
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown module",
			"x = 1\nimport numpy as np\n",
			`t.star:2:8: import of unknown module "numpy"` + unknown},
		{"unknown module in from",
			"def f():\n    from numpy.linalg import norm\n",
			`t.star:2:10: import of unknown module "numpy.linalg"` + unknown},
		{"unknown module later in a list",
			"import json, os.path\n",
			`t.star:1:14: import of unknown module "os.path"` + unknown},
		{"unknown name",
			"from parsl.config import (\n    Config,\n    Foo,\n)\n",
			`t.star:3:5: module "parsl.config" has no name "Foo" (it has: Config)`},
		{"unknown name in a module without names",
			"from json import loads\n",
			`t.star:1:18: module "json" has no name "loads"`},
		{"module that cannot be imported whole",
			"import parsl.app.app as app\n",
			`t.star:1:8: module "parsl.app.app" cannot be imported whole; use "from parsl.app.app import ..."`},
		{"relative import",
			"from .lib import x\n",
			`t.star:1:6: relative imports are not supported; use load("./file.star", "name") for a Starlark file`},
		{"import syntax",
			"import json as\n",
			`t.star:1:15: got end of statement, want name after "as"`},
		{"syntax error before a bad import wins",
			"x = = 1\nimport numpy\n",
			`t.star:1:5: got '=', want primary expression`},
		{"bad import before a syntax error wins",
			"import numpy\nx = = 1\n",
			`t.star:1:8: import of unknown module "numpy"` + unknown},
		{"decorator before a statement",
			"@python_app\nx = 1\n",
			`t.star:1:1: decorator must be followed by a def`},
		{"decorator at end of file",
			"x = 1\n@python_app\n",
			`t.star:2:1: decorator must be followed by a def`},
		{"stacked decorators before a statement",
			"def f():\n    @tag(\"a\")\n    @tag(\"b\")\n    return 1\n",
			`t.star:2:5: decorator must be followed by a def`},
		{"decorator at end of a block",
			"if True:\n    @python_app\ndef f():\n    pass\n",
			`t.star:2:5: decorator must be followed by a def`},
		{"decorator before an import",
			"@python_app\nimport json\ndef f():\n    pass\n",
			`t.star:1:1: decorator must be followed by a def`},
		{"undefined decorator",
			"@foo\ndef f():\n    pass\n",
			`t.star:1:2: undefined: foo`},
		{"undefined called decorator",
			"@python_app(executors=[cpu])\ndef f():\n    pass\n",
			`t.star:1:24: undefined: cpu`},
		{"decorator that fails",
			"x = 1\n@boom\ndef f():\n    pass\n",
			`boom: no executors`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := run(tc.src, dialectOpts)
			if err == nil {
				t.Fatalf("run:\n%s\nsucceeded, want error %s", tc.src, tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("run:\n%s\n got %s\nwant %s", tc.src, got, tc.want)
			}
		})
	}
}

// TestParseBacktraces checks that runtime errors in and around decorated
// functions point at the user's lines and columns.
func TestParseBacktraces(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		want      []string // in the backtrace
	}{
		{"error in a decorated body",
			"import json\n@python_app(\n    cache=True)\ndef f(x):\n    return x // 0\nf(1)\n",
			[]string{"t.star:6:2: in <toplevel>", "t.star:5:14: in f", "floored division by zero"}},
		{"error in a decorator",
			"from parsl.config import Config\n\n@tag(\"a\")\n@boom\ndef f():\n    pass\n",
			[]string{"t.star:4:1: in <toplevel>", "boom: no executors"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := run(tc.src, dialectOpts)
			var evalErr *starlark.EvalError
			if !errors.As(err, &evalErr) {
				t.Fatalf("run: got %v, want an EvalError", err)
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

func TestParseTopLevelDecoratorNeedsGlobalReassign(t *testing.T) {
	t.Parallel()
	opts := &syntax.FileOptions{}
	src := "def g():\n    @python_app\n    def f():\n        pass\n    return f\n\n@python_app\ndef h():\n    pass\n"
	_, err := run(src, opts)
	want := `t.star:7:1: decorator: cannot rebind top-level "h" to its decorated value without the GlobalReassign file option`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestParsePositions checks that every node the lowering made carries the
// parser's file name and a position on the user's text.
func TestParsePositions(t *testing.T) {
	t.Parallel()
	src := "import json as j\nfrom stats import *\n@tag(\"a\")\n@python_app\ndef f():\n    from stats import mean as m\n    return m\n"
	f, err := Parse("t.star", []byte(src), dialectOpts, testModules)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	syntax.Walk(f, func(n syntax.Node) bool {
		if id, ok := n.(*syntax.Ident); ok {
			got = append(got, fmt.Sprintf("%s %s", id.Name, id.NamePos))
		}
		return true
	})
	sort.Strings(got)
	want := []string{
		"f t.star:5:5", "f t.star:5:5", "f t.star:5:5", // def f, f = ...(f)
		"j t.star:1:16", "json_mod t.star:1:8",
		"m t.star:6:31", "m t.star:7:12", "mean t.star:2:6", "python_app t.star:4:2",
		"stats_mean t.star:2:6", "stats_mean t.star:6:23", "tag t.star:3:2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("identifiers:\n got %q\nwant %q", got, want)
	}
}

// script5000 is a 5,000-line Parsl-style script exercising every lowering.
func script5000() []byte {
	var b strings.Builder
	b.WriteString("from parsl.app.app import python_app, bash_app\nimport json as j\n")
	for i := 0; b.Len() == 0 || strings.Count(b.String(), "\n") < 5000; i++ {
		fmt.Fprintf(&b, `
@python_app(cache=True,
            executors=["cpu"])
def f%d(x, y=1):
    """Doc with @ and import inside."""
    import json  # a comment @
    s = "@not_a_decorator" + 'import x'
    return x * y + len(s)
`, i)
	}
	return []byte(b.String())
}

func TestParseLargeScript(t *testing.T) {
	t.Parallel()
	if _, err := run(string(script5000()), dialectOpts); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkParse5000Lines(b *testing.B) {
	src := script5000()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse("t.star", src, dialectOpts, testModules); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseLoadAttribute(t *testing.T) {
	src := "x = parsl.load(cfg)  # .load in a comment\ny = \"a.load\"\nz = json.load(f).load\n"
	f, err := Parse("t.star", []byte(src), FileOptions(), Modules())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	syntax.Walk(f, func(n syntax.Node) bool {
		if d, ok := n.(*syntax.DotExpr); ok {
			start, _ := d.Name.Span()
			names = append(names, fmt.Sprintf("%s@%d:%d", d.Name.Name, start.Line, start.Col))
		}
		return true
	})
	want := []string{"LOAD@1:11", "LOAD@3:18", "LOAD@3:10"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("attributes = %v, want %v", names, want)
	}
}
