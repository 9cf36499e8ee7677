package stdlib_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// run executes src with the modules and builtins of opts predeclared.
func run(t *testing.T, opts stdlib.Options, src string) (starlark.StringDict, error) {
	t.Helper()
	predeclared := stdlib.Builtins(opts)
	for name, m := range stdlib.Modules(opts) {
		if !strings.Contains(name, ".") {
			predeclared[name] = m
		}
	}
	fileOpts := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true}
	return starlark.ExecFileOptions(fileOpts, &starlark.Thread{Name: "test"}, "x.star", src, predeclared)
}

func TestModuleNames(t *testing.T) {
	t.Parallel()
	var names []string
	for name, m := range stdlib.Modules(stdlib.Options{}) {
		names = append(names, name)
		if m.Name != name {
			t.Errorf("module %q calls itself %q", name, m.Name)
		}
	}
	sort.Strings(names)
	want := "collections fnmatch functools glob itertools json math operator os os.path random re statistics string sys time"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("modules = %s\nwant      %s", got, want)
	}
}

func TestExitError(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		src  string
		code int
		msg  string
	}{
		{"sys.exit()", 0, ""},
		{"sys.exit(4)", 4, ""},
		{"def f():\n    sys.exit('no data')\nf()", 1, "no data"},
	} {
		_, err := run(t, stdlib.Options{}, tt.src)
		var exit *stdlib.ExitError
		if !errors.As(err, &exit) {
			t.Errorf("%q: %v, want an *ExitError", tt.src, err)
			continue
		}
		if exit.Code != tt.code || exit.Message != tt.msg {
			t.Errorf("%q: exit %+v, want code %d message %q", tt.src, exit, tt.code, tt.msg)
		}
	}
}

// TestErrorKinds checks that the Python exception name survives the
// interpreter's wrapping, for the front end's try/except.
func TestErrorKinds(t *testing.T) {
	t.Parallel()
	for src, kind := range map[string]string{
		"statistics.mean([])":       "StatisticsError",
		"open('/nonexistent/x')":    "FileNotFoundError",
		"json.loads('{')":           "JSONDecodeError",
		"math.sqrt(-1)":             "ValueError",
		"re.compile('(a)\\\\1')":    "error",
		"random.choice([])":         "IndexError",
		"divmod(1, 0)":              "ZeroDivisionError",
		"collections.Counter(3)":    "TypeError",
		"functools.reduce(max, [])": "TypeError",
	} {
		_, err := run(t, stdlib.Options{}, src)
		if got := pyerr.KindOf(err); got != kind {
			t.Errorf("%s: kind %q, want %q (%v)", src, got, kind, err)
		}
	}
}

func TestModulesAreFresh(t *testing.T) {
	t.Parallel()
	opts := stdlib.Options{Env: []string{"A=1"}}
	a, b := stdlib.Modules(opts), stdlib.Modules(opts)
	envA := a["os"].Members["environ"].(*starlark.Dict)
	envB := b["os"].Members["environ"].(*starlark.Dict)
	if err := envA.SetKey(starlark.String("B"), starlark.String("2")); err != nil {
		t.Fatal(err)
	}
	if envB.Len() != 1 {
		t.Errorf("changing one os.environ changed another: %v", envB)
	}
	if a["os.path"] != a["os"].Members["path"] {
		t.Errorf(`Modules()["os.path"] is not os.path`)
	}
}

// TestSharedAcrossGoroutines uses one set of frozen modules from many
// threads at once, as concurrent apps do; -race checks the locking.
func TestSharedAcrossGoroutines(t *testing.T) {
	t.Parallel()
	out := new(syncBuffer)
	seed := int64(1)
	opts := stdlib.Options{Stdout: out, Seed: &seed}
	globals, err := run(t, opts, `
def draw(i):
    print("task", i, random.randint(1, 6), sum([random.random() for _ in range(10)]) < 10)
    return functools.reduce(operator.add, itertools.islice(itertools.count(), 5))
`)
	if err != nil {
		t.Fatal(err)
	}
	globals.Freeze()
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			thread := &starlark.Thread{Name: fmt.Sprint("app", i)}
			v, err := starlark.Call(thread, globals["draw"], starlark.Tuple{starlark.MakeInt(i)}, nil)
			if err != nil || v != starlark.MakeInt(10) {
				t.Errorf("draw(%d) = %v, %v", i, v, err)
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSpace(out.take()), "\n")
	if len(lines) != 16 {
		t.Fatalf("%d lines printed, want 16:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if f := strings.Fields(l); len(f) != 4 || f[0] != "task" || f[3] != "True" {
			t.Errorf("garbled line %q", l)
		}
	}
}

func TestStrOption(t *testing.T) {
	t.Parallel()
	out := new(syncBuffer)
	pyStr := func(v starlark.Value) string {
		if f, ok := v.(starlark.Float); ok {
			return fmt.Sprintf("<%g>", float64(f))
		}
		return v.String()
	}
	if _, err := run(t, stdlib.Options{Stdout: out, Str: pyStr}, `print(1.5, "s")`); err != nil {
		t.Fatal(err)
	}
	if got := out.take(); got != "<1.5> \"s\"\n" {
		t.Errorf("print with Str = %q", got)
	}
}
