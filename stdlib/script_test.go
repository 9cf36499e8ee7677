package stdlib_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
	"github.com/starflow-hpc/starflow/stdlib/startest"
)

// TestScripts runs every testdata/*.star file, in the manner of
// go.starlark.net's eval_test: a file is split into chunks by "---"
// lines, each chunk runs with fresh modules and builtins and asserts its
// own results, and a line ending in
//
//	### error: REGEXP
//
// is where the chunk must stop, with an error matching REGEXP (and, for
// "### error: [Kind] REGEXP", of that Python exception kind).
func TestScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.star"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.star files")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".star"), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range splitChunks(file, string(src)) {
				c.run(t)
			}
		})
	}
}

// A chunk is one script of a file, padded with blank lines so that its
// line numbers are the file's.
type chunk struct {
	file    string
	src     string
	first   int
	wantErr map[int]string // line -> "[Kind] regexp" or "regexp"
}

func splitChunks(file, src string) []chunk {
	var chunks []chunk
	for _, c := range startest.Split(file, src) {
		chunks = append(chunks, chunk{file: c.File, src: c.Src, first: c.Line, wantErr: c.WantErr})
	}
	return chunks
}

// syncBuffer is a bytes.Buffer safe for concurrent writers, as Options
// requires of Stdout.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.buf.String()
	s.buf.Reset()
	return out
}

// testClock is a stopped clock that sleep moves forward.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Sleep(_ *starlark.Thread, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return nil
}

func (c chunk) run(t *testing.T) {
	t.Helper()
	stdout, stderr := new(syncBuffer), new(syncBuffer)
	clock := &testClock{now: time.Date(2024, 3, 5, 14, 7, 9, 250e6, time.UTC)}
	seed := int64(42)
	opts := stdlib.Options{
		Argv:   []string{"script.star", "--n", "3"},
		Stdout: stdout, Stderr: stderr,
		Env:   []string{"HOME=/home/ada", "STARFLOW_TEST=yes", "EMPTY="},
		Now:   clock.Now,
		Sleep: clock.Sleep,
		Seed:  &seed,
	}
	predeclared := stdlib.Builtins(opts)
	for name, m := range stdlib.Modules(opts) {
		if !strings.Contains(name, ".") {
			predeclared[name] = m
		}
	}
	predeclared["assert"] = assertModule(stdout, stderr)
	predeclared["tmpdir"] = starlark.String(t.TempDir())
	predeclared["struct"] = starlark.NewBuiltin("struct", starlarkstruct.Make)

	opt := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}
	thread := &starlark.Thread{Name: c.file}
	_, err := starlark.ExecFileOptions(opt, thread, c.file, c.src, predeclared)
	if len(c.wantErr) == 0 {
		if err != nil {
			t.Errorf("%s (chunk at line %d): %s", c.file, c.first, backtrace(err))
		}
		return
	}
	if err == nil {
		t.Errorf("%s (chunk at line %d): ran to the end, want an error", c.file, c.first)
		return
	}
	line := errorLine(err)
	want, ok := c.wantErr[line]
	if !ok {
		t.Errorf("%s:%d: unexpected error: %s", c.file, line, backtrace(err))
		return
	}
	kind := ""
	if strings.HasPrefix(want, "[") {
		end := strings.IndexByte(want, ']')
		kind, want = want[1:end], strings.TrimSpace(want[end+1:])
	}
	if kind != "" && pyerr.KindOf(err) != kind {
		t.Errorf("%s:%d: error kind %q, want %q: %v", c.file, line, pyerr.KindOf(err), kind, err)
	}
	if !regexp.MustCompile(want).MatchString(errorMessage(err)) {
		t.Errorf("%s:%d: error %q does not match %q", c.file, line, errorMessage(err), want)
	}
}

func errorLine(err error) int {
	var ev *starlark.EvalError
	if errors.As(err, &ev) {
		for i := len(ev.CallStack) - 1; i >= 0; i-- {
			if ev.CallStack[i].Pos.Filename() != "<builtin>" {
				return int(ev.CallStack[i].Pos.Line)
			}
		}
	}
	var se syntax.Error
	if errors.As(err, &se) {
		return int(se.Pos.Line)
	}
	return 0
}

func errorMessage(err error) string {
	var ev *starlark.EvalError
	if errors.As(err, &ev) {
		return ev.Msg
	}
	return err.Error()
}

func backtrace(err error) string {
	var ev *starlark.EvalError
	if errors.As(err, &ev) {
		return ev.Backtrace()
	}
	return err.Error()
}

// assertModule is the scripts' assert: eq, ne, true, fails and kind, and
// stdout/stderr, which return what was printed so far and forget it.
func assertModule(stdout, stderr *syncBuffer) *starlarkstruct.Module {
	fail := func(format string, args ...any) error { return fmt.Errorf(format, args...) }
	return &starlarkstruct.Module{Name: "assert", Members: starlark.StringDict{
		"eq": starlark.NewBuiltin("assert.eq", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var x, y starlark.Value
			var msg string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y, &msg); err != nil {
				return nil, err
			}
			if eq, err := starlark.Equal(x, y); err != nil || !eq {
				return nil, fail("%s: got %s (%s), want %s (%s) %s", b.Name(), x, x.Type(), y, y.Type(), msg)
			}
			return starlark.None, nil
		}),
		// same is eq that also wants the same type: 1 is not 1.0.
		"same": starlark.NewBuiltin("assert.same", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var x, y starlark.Value
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
				return nil, err
			}
			if eq, err := starlark.Equal(x, y); err != nil || !eq || x.Type() != y.Type() || x.String() != y.String() {
				return nil, fail("%s: got %s (%s), want %s (%s)", b.Name(), x, x.Type(), y, y.Type())
			}
			return starlark.None, nil
		}),
		// near is same for floats computed with Go's math package, which
		// may be a unit or two in the last place away from C's libm.
		"near": starlark.NewBuiltin("assert.near", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var x, y starlark.Float
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
				return nil, err
			}
			lo, hi := float64(y), float64(y)
			for i := 0; i < 2; i++ {
				lo, hi = math.Nextafter(lo, math.Inf(-1)), math.Nextafter(hi, math.Inf(1))
			}
			if float64(x) < lo || float64(x) > hi {
				return nil, fail("%s: got %v, want %v within 2 ulps", b.Name(), x, y)
			}
			return starlark.None, nil
		}),
		"ne": starlark.NewBuiltin("assert.ne", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var x, y starlark.Value
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
				return nil, err
			}
			if eq, err := starlark.Equal(x, y); err != nil || eq {
				return nil, fail("%s: both %s", b.Name(), x)
			}
			return starlark.None, nil
		}),
		"true": starlark.NewBuiltin("assert.true", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var cond starlark.Value
			msg := "condition is false"
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &cond, &msg); err != nil {
				return nil, err
			}
			if !cond.Truth() {
				return nil, fail("%s: %s", b.Name(), msg)
			}
			return starlark.None, nil
		}),
		// fails(fn, pattern, kind="") calls fn and wants an error.
		"fails": starlark.NewBuiltin("assert.fails", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var fn starlark.Callable
			var pattern, kind string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &fn, &pattern, &kind); err != nil {
				return nil, err
			}
			_, err := starlark.Call(thread, fn, nil, nil)
			if err == nil {
				return nil, fail("%s: %s did not fail", b.Name(), fn.Name())
			}
			if !regexp.MustCompile(pattern).MatchString(errorMessage(err)) {
				return nil, fail("%s: error %q does not match %q", b.Name(), errorMessage(err), pattern)
			}
			if kind != "" && pyerr.KindOf(err) != kind {
				return nil, fail("%s: error kind %q, want %q (%v)", b.Name(), pyerr.KindOf(err), kind, err)
			}
			return starlark.None, nil
		}),
		"stdout": starlark.NewBuiltin("assert.stdout", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return starlark.String(stdout.take()), nil
		}),
		"stderr": starlark.NewBuiltin("assert.stderr", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return starlark.String(stderr.take()), nil
		}),
	}}
}
