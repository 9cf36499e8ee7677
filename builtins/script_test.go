package builtins_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/interp"
	"github.com/starflow-hpc/starflow/stdlib/startest"
)

// TestScripts runs every testdata/*.star file, in the manner of
// go.starlark.net's eval_test: a file is split into chunks by "---" lines,
// each chunk runs in a session of its own, asserts its own results with the
// assert module, and marks the line where it must stop with
//
//	x = f()  ### error: REGEXP
//
// A chunk without such a line must run to the end, and every task failure
// it caused must have been looked at (result() or exception()), since an
// unseen failure fails a real run.
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
			for _, c := range splitChunks(t, file, src) {
				c.run(t)
			}
		})
	}
}

// A chunk is one script of a test file, padded with blank lines so that its
// line numbers are the file's.
type chunk struct {
	file    string
	src     []byte
	line    int                    // first line, for messages
	wantErr map[int]*regexp.Regexp // line -> expected error
}

func splitChunks(t *testing.T, file string, src []byte) []chunk {
	var chunks []chunk
	for _, sc := range startest.Split(file, string(src)) {
		c := chunk{file: sc.File, src: []byte(sc.Src), line: sc.Line, wantErr: map[int]*regexp.Regexp{}}
		for line, pattern := range sc.WantErr {
			re, err := regexp.Compile(pattern)
			if err != nil {
				t.Fatalf("%s:%d: bad error pattern: %v", file, line, err)
			}
			c.wantErr[line] = re
		}
		chunks = append(chunks, c)
	}
	return chunks
}

// run executes the chunk in a fresh session and checks how it ended.
func (c chunk) run(t *testing.T) {
	t.Helper()
	env := newScriptEnv(t)
	session := builtins.NewSession(t.Context(), builtins.Options{
		RunDirRoot: env.runRoot,
		Workers:    4,
		Argv:       []string{c.file},
		Stdout:     env.stdout,
		Stderr:     env.stdout,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: "starflow", Level: hclog.Debug, Output: env.log,
		}),
	})
	env.session = session
	failedBefore := t.Failed()
	defer func() {
		// The kernel's log tells what happened to each task when a chunk
		// fails in a way its assertions do not explain.
		if !failedBefore && t.Failed() {
			t.Logf("%s:%d: kernel log:\n%s", c.file, c.line, env.log.String())
		}
	}()
	err := c.exec(env, session)
	kernels, ferr := session.Finish()
	if ferr != nil {
		t.Errorf("%s:%d: finishing the session: %v", c.file, c.line, ferr)
	}
	c.check(t.Errorf, err)
	if err == nil {
		for _, k := range kernels {
			for _, f := range k.Unseen() {
				_, ferr := f.Outcome()
				t.Errorf("%s:%d: chunk left the failure of task %d (%s) unseen: %v", c.file, c.line, f.ID(), f.App(), ferr)
			}
		}
	}
}

// exec compiles with the same front end as `starflow run` (interp.Parse and
// its file options), adding the assert and test modules to the predeclared
// names.
func (c chunk) exec(env *scriptEnv, session *builtins.Session) error {
	predeclared := interp.Predeclared([]string{c.file})
	predeclared["assert"] = env.assertModule()
	predeclared["test"] = env.testModule()
	f, err := interp.Parse(c.file, c.src, interp.FileOptions(), interp.Modules())
	if err != nil {
		return err
	}
	prog, err := starlark.FileProgram(f, predeclared.Has)
	if err != nil {
		return err
	}
	thread := &starlark.Thread{Name: "main", Print: session.Print}
	session.Attach(thread)
	_, err = prog.Init(thread, predeclared)
	return err
}

// check compares how the chunk ended with its "### error:" lines.
func (c chunk) check(errorf func(format string, args ...any), err error) {
	if err == nil {
		for line, re := range c.wantErr {
			errorf("%s:%d: want error matching %q, but the chunk succeeded", c.file, line, re)
		}
		return
	}
	got := errorLines(c.file, err)
	if len(got) == 0 {
		errorf("%s:%d: error with no position in the file: %v", c.file, c.line, err)
		return
	}
	for _, g := range got {
		re, ok := c.wantErr[g.line]
		switch {
		case !ok:
			errorf("%s:%d: unexpected error: %s", c.file, g.line, g.msg)
		case !re.MatchString(g.msg):
			errorf("%s:%d: error %q does not match %q", c.file, g.line, g.msg, re)
		}
		delete(c.wantErr, g.line)
	}
	for line, re := range c.wantErr {
		errorf("%s:%d: want error matching %q, got none there", c.file, line, re)
	}
}

type lineError struct {
	line int
	msg  string
}

// errorLines says where in file err happened: for a runtime error, the
// innermost frame of the script (so a builtin's error is reported at its
// call); for compile errors, each error's position.
func errorLines(file string, err error) []lineError {
	var ev *starlark.EvalError
	if errors.As(err, &ev) {
		for i := range ev.CallStack {
			if pos := ev.CallStack.At(i).Pos; pos.Filename() == file {
				return []lineError{{int(pos.Line), ev.Msg}}
			}
		}
		return nil
	}
	var se syntax.Error
	if errors.As(err, &se) {
		return []lineError{{int(se.Pos.Line), se.Msg}}
	}
	var el resolve.ErrorList
	if errors.As(err, &el) {
		out := make([]lineError, len(el))
		for i, e := range el {
			out[i] = lineError{int(e.Pos.Line), e.Msg}
		}
		return out
	}
	return nil
}

// syncBuffer is the captured output of a session: prints from concurrent
// apps and bash apps without stdout= land here.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestErrorMarks keeps the harness honest: chunks are split with their
// line numbers kept, and an error at the wrong line or with no line is
// reported.
func TestErrorMarks(t *testing.T) {
	t.Parallel()
	src := "x = 1\n---\ny = 1 // 0  ### error: division by zero\n---\nz = 1\n"
	chunks := splitChunks(t, "marks.star", []byte(src))
	if len(chunks) != 3 {
		t.Fatalf("got %d chunks, want 3", len(chunks))
	}
	if got := string(chunks[1].src); got != "\n\ny = 1 // 0  ### error: division by zero\n" {
		t.Errorf("second chunk is %q, want its line kept at 3", got)
	}
	tests := []struct {
		name string
		err  error
		want string // in the one report
	}{
		{"no position", errors.New("boom"), "error with no position"},
		{"wrong line", syntax.Error{Pos: syntax.MakePosition(&chunks[1].file, 1, 1), Msg: "division by zero"}, "unexpected error"},
		{"wrong message", syntax.Error{Pos: syntax.MakePosition(&chunks[1].file, 3, 1), Msg: "oops"}, "does not match"},
	}
	for _, tt := range tests {
		var got []string
		c := chunks[1]
		c.wantErr = map[int]*regexp.Regexp{3: c.wantErr[3]}
		c.check(func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) }, tt.err)
		if len(got) == 0 || !strings.Contains(got[0], tt.want) {
			t.Errorf("%s: reports %q, want one containing %q", tt.name, got, tt.want)
		}
	}
}
