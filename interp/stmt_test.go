package interp

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/stdlib/exc"
	"github.com/starflow-hpc/starflow/stdlib/files"
	"github.com/starflow-hpc/starflow/stdlib/format"
)

// stmtPredeclared is what lowered statements need: starflow's builtins,
// the _sf_ helpers of exc and format, and open().
func stmtPredeclared(argv []string) starlark.StringDict {
	p := Predeclared(argv)
	for _, d := range []starlark.StringDict{format.Builtins(), exc.Builtins()} {
		for k, v := range d {
			p[k] = v
		}
	}
	if !p.Has("open") {
		p["open"] = files.NewOpen() // until builtins has Python's open
	}
	return p
}

// lockedBuffer collects the output of a session's prints.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runStmt lowers, compiles and runs src in a session of its own, with
// argv[1] a scratch folder, and returns what it printed.
func runStmt(t *testing.T, name string, src []byte) (string, error) {
	t.Helper()
	argv := []string{name, t.TempDir()}
	f, err := Parse(name, src, FileOptions(), Modules())
	if err != nil {
		return "", err
	}
	predeclared := stmtPredeclared(argv)
	prog, err := starlark.FileProgram(f, predeclared.Has)
	if err != nil {
		return "", err
	}
	out := &lockedBuffer{}
	session := builtins.NewSession(t.Context(), builtins.Options{
		RunDirRoot: filepath.Join(t.TempDir(), "runinfo"),
		Workers:    4,
		Argv:       argv,
		Stdout:     out,
		Stderr:     out,
		Logger:     hclog.NewNullLogger(),
	})
	thread := &starlark.Thread{Name: "main", Print: session.Print}
	session.Attach(thread)
	_, err = prog.Init(thread, predeclared)
	if _, ferr := session.Finish(); ferr != nil && err == nil {
		err = ferr
	}
	return out.String(), err
}

// TestStmtCorpus runs testdata/dialect/stmt_*.star, Python scripts that
// print, and compares their output with the .out file beside each,
// written by CPython 3.11 (testdata/dialect/gen_stmt_out.sh) but for
// stmt_parsl.out, which needs Parsl and is written by hand.
func TestStmtCorpus(t *testing.T) {
	t.Parallel()
	scripts, err := filepath.Glob("testdata/dialect/stmt_*.star")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, file := range scripts {
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
			got, err := runStmt(t, filepath.Base(file), src)
			if err != nil {
				t.Fatalf("%s\noutput so far:\n%s", FormatError(err), got)
			}
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
		})
	}
}

// TestStmtParseErrors checks that what cannot be lowered, and try
// statements Python would reject, are reported by Parse at the user's
// line and column, naming the construct.
func TestStmtParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      string // "line:col: message fragment"
	}{
		{"class", "x = 1\nclass Point:\n    pass\n", "2:1: class is not supported: Starlark has no classes; use a dict, or struct("},
		{"yield", "def gen():\n    for i in range(3):\n        yield i\n", "3:9: yield is not supported"},
		{"async def", "async def f():\n    pass\n", "1:1: async is not supported"},
		{"await", "def f(g):\n    return await g()\n", "2:12: await is not supported"},
		{"global", "n = 0\ndef f():\n    global n\n    n += 1\n", "3:5: global is not supported"},
		{"nonlocal", "def f():\n    n = 0\n    def g():\n        nonlocal n\n", "4:9: nonlocal is not supported"},
		{"walrus", "if (n := 10) > 5:\n    pass\n", "1:7: assignment expression (walrus)"},
		{"walrus in comprehension", "ys = [y for x in [1] if (y := x)]\n", "1:28: assignment expression (walrus)"},
		{"with other", "import sys\nwith tempfile.TemporaryDirectory() as d:\n    pass\n",
			"2:6: with tempfile.TemporaryDirectory(...): only open(...) and parsl.load(...) can be used"},
		{"with second item", "with open(p) as f, lock() as l:\n    pass\n", "1:20: with lock(...): only open"},
		{"except without try", "x = 1\nexcept ValueError:\n    pass\n", "2:1: except without a try"},
		{"try without clauses", "try:\n    x = 1\nx = 2\n", "1:1: try needs an except or a finally clause"},
		{"bare except first", "try:\n    pass\nexcept:\n    pass\nexcept ValueError:\n    pass\n",
			"3:1: a bare except: must be the last except clause"},
		{"else without except", "try:\n    pass\nelse:\n    pass\nfinally:\n    pass\n",
			"3:1: else in a try needs an except clause"},
		{"except after finally", "try:\n    pass\nfinally:\n    pass\nexcept ValueError:\n    pass\n",
			"5:1: except after else or finally"},
		{"except star", "try:\n    pass\nexcept* ValueError:\n    pass\n", "3:7: except* is not supported"},
		{"except python 2", "try:\n    pass\nexcept KeyError, ValueError:\n    pass\n", "3:1: except A, B: is Python 2"},
		{"raise python 2", "raise ValueError, \"x\"\n", "1:1: raise E, message is Python 2"},
		{"bare raise outside except", "def f():\n    raise\n", "2:5: raise without an exception is only allowed in an except clause"},
		{"return outside function", "try:\n    return 1\nexcept ValueError:\n    pass\n", "2:5: return statement not within a function"},
		{"break outside loop", "def f():\n    try:\n        break\n    except ValueError:\n        pass\n", "3:9: break not in a loop"},
		{"del attribute", "x = 1\ndel x.y\n", "2:5: del of an attribute is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("bad.star", []byte(tt.src), FileOptions(), Modules())
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q", tt.want)
			}
			if got := FormatError(err); !strings.HasPrefix(got, "bad.star:"+tt.want) {
				t.Errorf("got  %q\nwant %q", got, "bad.star:"+tt.want)
			}
		})
	}
}

// TestStmtNotLowered checks what must be left alone: keywords in strings
// and comments, and a Starlark name "assert" (the assert module of tests).
func TestStmtNotLowered(t *testing.T) {
	t.Parallel()
	src := `s = "class yield try: raise with del" # global nonlocal x := 1
t = '''
try:
    raise
'''
assert = {"eq": 2}
print(s[:5], assert["eq"], len(t))
`
	got, err := runStmt(t, "ok.star", []byte(src))
	if err != nil {
		t.Fatal(FormatError(err))
	}
	if want := "class 2 16\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestStmtTopLevelOptions checks that a try at top level is refused,
// with a reason, where the file options would reject its lowering.
func TestStmtTopLevelOptions(t *testing.T) {
	t.Parallel()
	src := "def f():\n    try:\n        pass\n    except ValueError:\n        pass\ntry:\n    pass\nexcept ValueError:\n    pass\n"
	_, err := Parse("opts.star", []byte(src), &syntax.FileOptions{}, Modules())
	want := "opts.star:6:1: try at top level needs the TopLevelControl and GlobalReassign file options"
	if err == nil || FormatError(err) != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

// TestStmtRuntimeErrors checks where an exception that nothing catches
// is reported: at the user's line and column, with Python's
// "Class: message".
func TestStmtRuntimeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      string // the first line of the formatted error
	}{
		{"raise", "x = 1\nraise ValueError(\"bad\")\n", "2:1: ValueError: bad"},
		{"raise class", "def f():\n    raise KeyboardInterrupt\nf()\n", "2:5: KeyboardInterrupt"},
		{"assert", "x = 2\nassert x == 1, \"x is %d\" % x\n", "2:1: AssertionError: x is 2"},
		{"assert without message", "assert 1 > 2\n", "1:1: AssertionError"},
		{"uncaught in body", "try:\n    x = 1 // 0\nexcept KeyError:\n    pass\n", "2:11: floored division by zero"},
		{"reraise keeps the place", "def f():\n    return 1 // 0\ntry:\n    f()\nexcept ZeroDivisionError:\n    raise\n",
			"2:14: floored division by zero"},
		{"raised in handler", "try:\n    1 // 0\nexcept ZeroDivisionError:\n    raise RuntimeError(\"again\")\n",
			"4:5: RuntimeError: again"},
		{"raise a string", "raise \"oops\"\n", "1:1: raise: got string, want an exception"},
		{"except a non-class", "try:\n    1 // 0\nexcept 3:\n    pass\n", "3:1: except: got int, want an exception class"},
		{"with a non-file", "x = 3\nwith x:\n    pass\n", "2:6: with: got int, want a file from open()"},
		{"del a missing key", "d = {}\ndel d[\"k\"]\n", "2:5: KeyError: 'k'"},
		{"finally runs first", "try:\n    1 // 0\nfinally:\n    print(\"finally\")\n", "2:7: floored division by zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := runStmt(t, "r.star", []byte(tt.src))
			if err == nil {
				t.Fatalf("ran to the end, want error %q", tt.want)
			}
			got, _, _ := strings.Cut(FormatError(err), "\n")
			if want := "r.star:" + tt.want; !strings.HasPrefix(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

// BenchmarkStmtParse lowers a 5,000-line script dense with the statements
// of this pass (issue 3: `starflow check` of such a script in under 100 ms).
func BenchmarkStmtParse(b *testing.B) {
	var src strings.Builder
	unit := `def step%[1]d(xs, path):
    total = 0
    for x in xs:
        try:
            total += 10 // x
        except ZeroDivisionError as e:
            continue
        except (KeyError, ValueError):
            raise
        else:
            assert total >= 0, "negative"
        finally:
            del xs[:0]
    with open(path) as f:
        data = f.read()
    return total, data

try:
    r%[1]d = step%[1]d([1, 2, 0], "p")
except Exception:
    r%[1]d = None
`
	for i := 0; src.Len() == 0 || strings.Count(src.String(), "\n") < 5000; i++ {
		fmt.Fprintf(&src, unit, i)
	}
	text := []byte(src.String())
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := Parse("big.star", text, FileOptions(), Modules()); err != nil {
			b.Fatal(err)
		}
	}
}
