package interp

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/builtins"
)

// writeTree writes files (slash-separated path -> content) under a new
// temporary folder and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runScript compiles and runs dir/script in a session of its own. It
// returns what the script printed and, if it failed, the error as
// FormatError shows it, with dir written $DIR.
func runScript(t *testing.T, dir, script string, opts ...Option) (out, errText string, globals starlark.StringDict) {
	t.Helper()
	var buf bytes.Buffer
	p, err := Compile(filepath.Join(dir, filepath.FromSlash(script)), nil, opts...)
	if err == nil {
		session := builtins.NewSession(context.Background(), builtins.Options{
			RunDirRoot: filepath.Join(dir, "runinfo"),
			Workers:    2,
			Stdout:     &buf,
			Stderr:     &buf,
			Logger:     hclog.NewNullLogger(),
			CodeDigest: p.CodeDigest,
		})
		globals, err = p.Exec(context.Background(), session)
		if _, ferr := session.Finish(); ferr != nil && err == nil {
			err = ferr
		}
	}
	if err != nil {
		errText = strings.ReplaceAll(FormatError(err), dir, "$DIR")
	}
	return buf.String(), errText, globals
}

func TestLoadResolution(t *testing.T) {
	t.Parallel()
	const answer = "def answer():\n    return WHERE\n"
	lib := func(where string) string { return "WHERE = \"" + where + "\"\n" + answer }
	tests := []struct {
		name   string
		files  map[string]string
		script string
		opts   func(dir string) []Option
		want   string // printed
	}{{
		name: "project root is the nearest folder with starflow.toml",
		files: map[string]string{
			"proj/starflow.toml":     "",
			"proj/lib/x.star":        lib("project"),
			"proj/sub/deeper/x.star": lib("not this one"),
			"proj/sub/deeper/wf.star": `load("//lib/x.star", "answer")
print(answer())`,
		},
		script: "proj/sub/deeper/wf.star",
		want:   "project\n",
	}, {
		name: "without starflow.toml the project root is the script's folder",
		files: map[string]string{
			"proj/lib/x.star": lib("script folder"),
			"proj/wf.star":    "load(\"//lib/x.star\", \"answer\")\nprint(answer())",
		},
		script: "proj/wf.star",
		want:   "script folder\n",
	}, {
		name: "./ and ../ are from the loading file, not the script",
		files: map[string]string{
			"a/wf.star":       "load(\"../b/mid.star\", \"answer\")\nprint(answer())",
			"b/mid.star":      "load(\"./c/leaf.star\", \"leaf\")\nanswer = leaf",
			"b/c/leaf.star":   "load(\"../../d.star\", \"answer\")\nleaf = answer",
			"d.star":          lib("three hops"),
			"b/c/d.star":      lib("wrong"),
			"a/b/c/leaf.star": "leaf = fail",
		},
		script: "a/wf.star",
		want:   "three hops\n",
	}, {
		name:   "@stdlib is in the binary",
		files:  map[string]string{"wf.star": "load(\"@stdlib//sweep.star\", \"grid\")\nprint(len(grid({\"a\": [1, 2], \"b\": [3, 4, 5]})))"},
		script: "wf.star",
		want:   "6\n",
	}, {
		name: "@name from --lib",
		files: map[string]string{
			"shared/x.star": lib("lib flag"),
			"wf.star":       "load(\"@mine//x.star\", \"answer\")\nprint(answer())",
		},
		script: "wf.star",
		opts: func(dir string) []Option {
			return []Option{WithLibraryPath(""), WithLibs("mine=" + filepath.Join(dir, "shared"))}
		},
		want: "lib flag\n",
	}, {
		name: "@name from STARFLOW_PATH, several roots",
		files: map[string]string{
			"one/x.star": lib("first root"),
			"two/y.star": lib("second root"),
			"wf.star": `load("@one//x.star", a = "answer")
load("@two//y.star", b = "answer")
print(a(), b())`,
		},
		script: "wf.star",
		opts: func(dir string) []Option {
			return []Option{WithLibraryPath("one=" + filepath.Join(dir, "one") + ":two=" + filepath.Join(dir, "two"))}
		},
		want: "first root second root\n",
	}, {
		name: "--lib wins over STARFLOW_PATH",
		files: map[string]string{
			"env/x.star":  lib("environment"),
			"flag/x.star": lib("flag"),
			"wf.star":     "load(\"@lib//x.star\", \"answer\")\nprint(answer())",
		},
		script: "wf.star",
		opts: func(dir string) []Option {
			return []Option{WithLibraryPath("lib=" + filepath.Join(dir, "env")), WithLibs("lib=" + filepath.Join(dir, "flag"))}
		},
		want: "flag\n",
	}, {
		name: "// inside an @name library is that library's root",
		files: map[string]string{
			"starflow.toml":     "",
			"shared/sub/x.star": "load(\"//util.star\", \"answer\")\nanswer2 = answer",
			"shared/util.star":  lib("library root"),
			"util.star":         lib("project root"),
			"wf.star":           "load(\"@s//sub/x.star\", \"answer2\")\nprint(answer2())",
		},
		script: "wf.star",
		opts: func(dir string) []Option {
			return []Option{WithLibraryPath(""), WithLibs("s=" + filepath.Join(dir, "shared"))}
		},
		want: "library root\n",
	}, {
		name: "Python-style import of a file beside the script",
		files: map[string]string{
			"mylib.star": lib("star module") + "def _private():\n    pass\n",
			"other.py":   lib("py module"),
			"wf.py": `from mylib import answer
from other import answer as other_answer
import other
print(answer(), other_answer(), other.answer(), other.WHERE, hasattr(other, "_private"))`,
		},
		script: "wf.py",
		want:   "star module py module py module py module False\n",
	}, {
		name: "a .star module wins over a .py of the same name",
		files: map[string]string{
			"m.star": lib("star"),
			"m.py":   lib("py"),
			"wf.py":  "from m import answer\nprint(answer())",
		},
		script: "wf.py",
		want:   "star\n",
	}, {
		name: "imports inside a def are hoisted",
		files: map[string]string{
			"helpers.py": "def twice(x):\n    return 2 * x\n",
			"wf.py": `def f(x):
    from helpers import twice
    return twice(x)

if __name__ == "__main__":
    import helpers
    print(f(21), helpers.twice(1))`,
		},
		script: "wf.py",
		want:   "42 2\n",
	}, {
		name: "__name__ in a library is its module name",
		files: map[string]string{
			"guarded.py": "NAME = __name__\nif __name__ == \"__main__\":\n    fail(\"a library is not main\")\n",
			"wf.py":      "from guarded import NAME\nprint(NAME, __name__)",
		},
		script: "wf.py",
		want:   "guarded __main__\n",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeTree(t, tc.files)
			opts := []Option{WithLibraryPath("")}
			if tc.opts != nil {
				opts = tc.opts(dir)
			}
			out, errText, _ := runScript(t, dir, tc.script, opts...)
			if errText != "" {
				t.Fatalf("failed:\n%s", errText)
			}
			if out != tc.want {
				t.Errorf("printed %q, want %q", out, tc.want)
			}
		})
	}
}

func TestLoadProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		files  map[string]string
		script string
		want   []string // the lines of the error, $DIR for the folder
	}{{
		name:   "missing library",
		files:  map[string]string{"wf.star": "x = 1\nload(\"./nope.star\", \"f\")\n"},
		script: "wf.star",
		want:   []string{`$DIR/wf.star:2:6: cannot load ./nope.star: no such file: $DIR/nope.star`},
	}, {
		name: "a name the library does not export",
		files: map[string]string{
			"lib.star": "def f():\n    pass\n_hidden = 1\nG = 2\n",
			"wf.star":  "load(\"./lib.star\", \"f\", \"g\")\n",
		},
		script: "wf.star",
		want:   []string{`$DIR/wf.star:1:26: ./lib.star has no name "g" (it has: G, f)`},
	}, {
		name: "a name Python-style import does not find",
		files: map[string]string{
			"lib.py": "def f():\n    pass\n",
			"wf.py":  "from lib import f, g\n",
		},
		script: "wf.py",
		want:   []string{`$DIR/wf.py:1:20: module "lib" has no name "g" (it has: f)`},
	}, {
		name: "cycle",
		files: map[string]string{
			"wf.star": "load(\"./a.star\", \"a\")\n",
			"a.star":  "load(\"./b.star\", \"b\")\na = 1\n",
			"b.star":  "\n\nload(\"./c.star\", \"c\")\nb = 1\n",
			"c.star":  "load(\"./a.star\", \"a\")\nc = 1\n",
		},
		script: "wf.star",
		want:   []string{`$DIR/c.star:1:6: load cycle: $DIR/a.star -> $DIR/b.star -> $DIR/c.star -> $DIR/a.star`},
	}, {
		name: "cycle through Python-style imports, back to the script",
		files: map[string]string{
			"wf.py":     "import helper\n",
			"helper.py": "from wf import x\n",
		},
		script: "wf.py",
		want:   []string{`$DIR/helper.py:1:6: load cycle: $DIR/wf.py -> $DIR/helper.py -> $DIR/wf.py`},
	}, {
		name:   "unknown library root",
		files:  map[string]string{"wf.star": "load(\"@nowhere//x.star\", \"f\")\n"},
		script: "wf.star",
		want: []string{`$DIR/wf.star:1:6: cannot load @nowhere//x.star: no library root named "nowhere": ` +
			`give --lib nowhere=DIR, or add nowhere=DIR to STARFLOW_PATH`},
	}, {
		name:   "missing @stdlib file",
		files:  map[string]string{"wf.star": "load(\"@stdlib//grid.star\", \"f\")\n"},
		script: "wf.star",
		want:   []string{`$DIR/wf.star:1:6: cannot load @stdlib//grid.star: @stdlib has no grid.star (it has: mapreduce.star, sweep.star)`},
	}, {
		name:   "a path that says not where from",
		files:  map[string]string{"wf.star": "load(\"lib.star\", \"f\")\n"},
		script: "wf.star",
		want: []string{`$DIR/wf.star:1:6: cannot load lib.star: a library is named from the project root ("//lib.star"), ` +
			`from this file's folder ("./lib.star"), or from a library root ("@name//lib.star")`},
	}, {
		name: "problems in several files are all reported, the script's first",
		files: map[string]string{
			"wf.star":  "load(\"./a.star\", \"a\")\nload(\"./b.star\", \"b\")\nprint(nope)\nload(\"./a.star\", \"zz\")\n",
			"a.star":   "a = undefined_in_a\n",
			"b.star":   "b = (\n",
			"ok.star":  "unused = 1\n",
			"zzz.star": "",
		},
		script: "wf.star",
		want: []string{
			`$DIR/wf.star:3:7: undefined: nope`,
			`$DIR/wf.star:4:19: ./a.star has no name "zz" (it has: a)`,
			`$DIR/a.star:1:5: undefined: undefined_in_a`,
			`$DIR/b.star:2:1: got end of file, want primary expression`,
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeTree(t, tc.files)
			out, errText, _ := runScript(t, dir, tc.script, WithLibraryPath(""))
			if out != "" {
				t.Errorf("a script that does not compile printed %q", out)
			}
			if want := strings.Join(tc.want, "\n"); errText != want {
				t.Errorf("error:\n%s\nwant:\n%s", errText, want)
			}
		})
	}
}

func TestLibraryOptionsRejected(t *testing.T) {
	t.Parallel()
	for spec, want := range map[string]string{
		"noequals":   `--lib "noequals": want NAME=DIR`,
		"stdlib=/x":  `--lib "stdlib=/x": @stdlib is starflow's own library`,
		"a b=/x":     `--lib "a b=/x": "a b" is not a library name (letters, digits, _ . -)`,
		"empty=":     `--lib "empty=": want NAME=DIR`,
		"//bad=/dir": `--lib "//bad=/dir": "//bad" is not a library name (letters, digits, _ . -)`,
	} {
		_, err := CompileSource("wf.star", []byte("x = 1"), nil, WithLibraryPath(""), WithLibs(spec))
		if err == nil || err.Error() != want {
			t.Errorf("--lib %s: got %v, want %s", spec, err, want)
		}
	}
	_, err := CompileSource("wf.star", []byte("x = 1"), nil, WithLibraryPath("a=/x:oops"))
	if want := `STARFLOW_PATH entry "oops": want NAME=DIR`; err == nil || err.Error() != want {
		t.Errorf("STARFLOW_PATH: got %v, want %s", err, want)
	}
}

func TestLibraryApps(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{
		"lib/apps.star": `
@python_app
def square(x):
    return x * x

@python_app(cache = True)
def total(xs):
    return sum_of(xs)

def sum_of(xs):
    s = 0
    for x in xs:
        s += x
    return s

@join_app
def sum_squares(n):
    return total([square(i) for i in range(n)])
`,
		"wf.star": `load("./lib/apps.star", "square", "total", "sum_squares")
print(total([square(i) for i in range(4)]).result(), sum_squares(5).result())
`,
	})
	out, errText, _ := runScript(t, dir, "wf.star", WithLibraryPath(""))
	if errText != "" {
		t.Fatal(errText)
	}
	if out != "14 30\n" {
		t.Errorf("printed %q, want %q", out, "14 30\n")
	}
}

func TestLibraryLoadedOnce(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{
		"starflow.toml": "",
		"lib/count.star": `print("running count.star")
COUNTER = [0]
def bump():
    COUNTER[0] += 1
`,
		"lib/a.star": "load(\"./count.star\", \"COUNTER\")\nA = COUNTER\n",
		"count.py":   "print(\"running count.py\")\n",
		"wf.py": `load("//lib/count.star", "COUNTER")
load("./lib/count.star", C2 = "COUNTER")
load("//lib/a.star", "A")
import count
from count import *

def later():
    import count
    return count

print(COUNTER == C2, COUNTER == A, later() == count)
`,
	})
	out, errText, _ := runScript(t, dir, "wf.py", WithLibraryPath(""))
	if errText != "" {
		t.Fatal(errText)
	}
	for _, line := range []string{"running count.star\n", "running count.py\n"} {
		if n := strings.Count(out, line); n != 1 {
			t.Errorf("%q printed %d times, want once:\n%s", line, n, out)
		}
	}
	if !strings.HasSuffix(out, "True True True\n") {
		t.Errorf("the loads did not share the library's values:\n%s", out)
	}
}

func TestLibraryFrozen(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{
		"lib.star": "ITEMS = [1]\nSETTINGS = {\"n\": 1}\ndef bump():\n    ITEMS.append(2)\n",
		"wf.star":  "load(\"./lib.star\", \"ITEMS\", \"SETTINGS\", \"bump\")\nprint(ITEMS, SETTINGS)\nbump()\n",
		"wf2.star": "load(\"./lib.star\", \"SETTINGS\")\nSETTINGS[\"n\"] = 2\n",
	})
	out, errText, _ := runScript(t, dir, "wf.star", WithLibraryPath(""))
	if out != "[1] {'n': 1}\n" {
		t.Errorf("printed %q", out)
	}
	want := regexp.MustCompile(`^\$DIR/lib.star:4:17: append: cannot append to frozen list\n` +
		`Traceback \(most recent call last\):\n  \$DIR/wf.star:3:5: in <toplevel>\n  \$DIR/lib.star:4:17: in bump\n`)
	if !want.MatchString(errText) {
		t.Errorf("error:\n%s\nwant match for %s", errText, want)
	}
	_, errText, _ = runScript(t, dir, "wf2.star", WithLibraryPath(""))
	if errText != "$DIR/wf2.star:2:9: cannot insert into frozen hash table" {
		t.Errorf("error: %s", errText)
	}
}

func TestLibraryFailureShowsTheLibrary(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{
		"lib.star": "def f():\n    return 1 // 0\nX = f()\n",
		"wf.star":  "print(\"before\")\nload(\"./lib.star\", \"X\")\nprint(X)\n",
	})
	out, errText, _ := runScript(t, dir, "wf.star", WithLibraryPath(""))
	if out != "before\n" {
		t.Errorf("printed %q", out)
	}
	want := "$DIR/lib.star:2:14: floored division by zero\n" +
		"Traceback (most recent call last):\n" +
		"  $DIR/wf.star:2:1: in <toplevel>\n" +
		"  $DIR/lib.star:3:6: in <toplevel>\n" +
		"  $DIR/lib.star:2:14: in f\n" +
		"Error: floored division by zero"
	if errText != want {
		t.Errorf("error:\n%s\nwant:\n%s", errText, want)
	}
}

// digestOf compiles dir/wf.star, runs it, and returns the code digest of
// its global function name and the content hash of the library module.
func digestOf(t *testing.T, dir, name, module string) (digest, hash [32]byte) {
	t.Helper()
	p, err := Compile(filepath.Join(dir, "wf.star"), nil, WithLibraryPath(""))
	if err != nil {
		t.Fatal(FormatError(err))
	}
	session := builtins.NewSession(context.Background(), builtins.Options{Logger: hclog.NewNullLogger()})
	globals, err := p.Exec(context.Background(), session)
	if err != nil {
		t.Fatal(FormatError(err))
	}
	fn, ok := globals[name].(*starlark.Function)
	if !ok {
		t.Fatalf("%s is %T", name, globals[name])
	}
	digest, ok = p.CodeDigest(fn)
	if !ok {
		t.Fatalf("no digest for %s", name)
	}
	hash, ok = p.libraryHash(module)
	if !ok {
		t.Fatalf("no library %s", module)
	}
	return digest, hash
}

func TestLibraryHashAndDigests(t *testing.T) {
	t.Parallel()
	script := `load("./lib.star", "helper")
load("./other.star", "unrelated")

def app(x):
    return via(x)

def via(x):
    return helper(x)

def plain(x):
    return x

lib_helper = helper # a global, so that the test can reach the library's def
`
	files := map[string]string{
		"wf.star":    script,
		"lib.star":   "load(\"./deep.star\", \"K\")\ndef helper(x):\n    return x + K\n",
		"deep.star":  "K = 1\n",
		"other.star": "def unrelated():\n    pass\n",
	}
	edit := func(name, content string) map[string]string {
		out := map[string]string{}
		for k, v := range files {
			out[k] = v
		}
		out[name] = content
		return out
	}
	base := writeTree(t, files)
	app, libHash := digestOf(t, base, "app", "//lib.star")
	plain, _ := digestOf(t, base, "plain", "//lib.star")
	helper, _ := digestOf(t, base, "lib_helper", "//lib.star")

	// Same bytes, same hash and digests, wherever the files are.
	again := writeTree(t, files)
	if a, h := digestOf(t, again, "app", "//lib.star"); a != app || h != libHash {
		t.Error("the same files gave another digest or library hash")
	}

	for _, tc := range []struct {
		file, content  string
		appChanges     bool
		libHashChanges bool
	}{
		{"lib.star", "load(\"./deep.star\", \"K\")\ndef helper(x):\n    return x + K + 1\n", true, true},
		{"deep.star", "K = 2\n", true, true},                             // a library the library loads
		{"other.star", "def unrelated():\n    return 1\n", false, false}, // loaded, not reached
	} {
		dir := writeTree(t, edit(tc.file, tc.content))
		a, h := digestOf(t, dir, "app", "//lib.star")
		if (a != app) != tc.appChanges {
			t.Errorf("editing %s: app's digest changed = %v, want %v", tc.file, a != app, tc.appChanges)
		}
		if (h != libHash) != tc.libHashChanges {
			t.Errorf("editing %s: lib.star's hash changed = %v, want %v", tc.file, h != libHash, tc.libHashChanges)
		}
		if p, _ := digestOf(t, dir, "plain", "//lib.star"); p != plain {
			t.Errorf("editing %s changed the digest of a def that uses no library", tc.file)
		}
		// A def in the library has a digest of its own, which follows
		// what it reaches.
		if d, _ := digestOf(t, dir, "lib_helper", "//lib.star"); (d != helper) != tc.appChanges {
			t.Errorf("editing %s: the library def's digest changed = %v, want %v", tc.file, d != helper, tc.appChanges)
		}
	}
}
