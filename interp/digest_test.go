package interp

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// digests compiles src, runs it and returns the code digest of each named
// global function.
func digests(t *testing.T, src string, names ...string) map[string][32]byte {
	t.Helper()
	p, err := CompileSource("d.star", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	thread := &starlark.Thread{}
	globals, err := p.prog.Init(thread, p.predeclared)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][32]byte{}
	for _, n := range names {
		fn, ok := globals[n].(*starlark.Function)
		if !ok {
			t.Fatalf("%s is %T", n, globals[n])
		}
		d, ok := p.CodeDigest(fn)
		if !ok {
			t.Fatalf("no digest for %s", n)
		}
		out[n] = d
	}
	return out
}

const base = `
SCALE = 3
OTHER = 5

def helper(x):
    return x * SCALE

def unrelated(x):
    return x + OTHER

def app(x):
    return helper(x) + 1

def rec(n):
    return n if n < 2 else rec(n - 1) + mutual(n)

def mutual(n):
    return rec(n - 2) if n > 2 else 0
`

func TestCodeDigest(t *testing.T) {
	names := []string{"app", "helper", "unrelated", "rec", "mutual"}
	before := digests(t, base, names...)
	for _, tc := range []struct {
		name    string
		edit    func(string) string
		changed []string // digests that must change; all others must not
	}{
		{"app body", func(s string) string { return strings.Replace(s, "helper(x) + 1", "helper(x) + 2", 1) }, []string{"app"}},
		{"helper body", func(s string) string { return strings.Replace(s, "x * SCALE", "x * SCALE * 1", 1) }, []string{"app", "helper"}},
		{"constant value", func(s string) string { return strings.Replace(s, "SCALE = 3", "SCALE = 4", 1) }, []string{"app", "helper"}},
		{"unrelated constant", func(s string) string { return strings.Replace(s, "OTHER = 5", "OTHER = 6", 1) }, []string{"unrelated"}},
		{"code added elsewhere", func(s string) string { return s + "\ndef extra():\n    return 1\n" }, nil},
		{"lines moved", func(s string) string { return "\n\n" + s }, nil},
		{"mutual recursion", func(s string) string { return strings.Replace(s, "if n > 2 else 0", "if n > 2 else 1", 1) }, []string{"rec", "mutual"}},
		{"decorator options", func(s string) string {
			return strings.Replace(s, "def app(x):", "@python_app(cache = True)\ndef app(x):", 1)
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.edit(base)
			var after map[string][32]byte
			if strings.Contains(src, "@python_app") {
				// app is now an App; compare the others and app's function.
				after = digestsOfApps(t, src, names...)
			} else {
				after = digests(t, src, names...)
			}
			want := map[string]bool{}
			for _, n := range tc.changed {
				want[n] = true
			}
			for _, n := range names {
				if got := after[n] != before[n]; got != want[n] {
					t.Errorf("%s: digest changed = %v, want %v", n, got, want[n])
				}
			}
		})
	}
}

// digestsOfApps is digests for a source where some functions are apps.
func digestsOfApps(t *testing.T, src string, names ...string) map[string][32]byte {
	t.Helper()
	p, err := CompileSource("d.star", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	globals, err := p.prog.Init(&starlark.Thread{}, p.predeclared)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][32]byte{}
	for _, n := range names {
		v := globals[n]
		if a, ok := v.(interface{ Function() *starlark.Function }); ok {
			v = a.Function()
		}
		d, ok := p.CodeDigest(v.(*starlark.Function))
		if !ok {
			t.Fatalf("no digest for %s", n)
		}
		out[n] = d
	}
	return out
}
