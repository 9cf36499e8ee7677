package builtins_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/builtins"
)

// scriptEnv is what a test chunk sees besides the script API: the assert
// module, and a test module for the files and output a script cannot reach
// (Starlark has no file I/O).
type scriptEnv struct {
	t       *testing.T
	tmpdir  string
	runRoot string
	stdout  *syncBuffer
	log     *syncBuffer
	session *builtins.Session
}

func newScriptEnv(t *testing.T) *scriptEnv {
	dir := t.TempDir()
	return &scriptEnv{
		t:       t,
		tmpdir:  dir,
		runRoot: filepath.Join(dir, "runinfo"),
		stdout:  &syncBuffer{},
		log:     &syncBuffer{},
	}
}

// report records a failed assertion at the script line that made it. It
// may be called from an app's thread: testing.T.Errorf is safe for that.
func (e *scriptEnv) report(thread *starlark.Thread, format string, args ...any) {
	e.t.Errorf("%s: %s", thread.CallFrame(1).Pos, fmt.Sprintf(format, args...))
}

// assertModule is go.starlark.net's assert module in spirit: a failed
// assertion is reported and the script goes on, so one run shows every
// mismatch.
func (e *scriptEnv) assertModule() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "assert", Members: starlark.StringDict{
		"eq":       starlark.NewBuiltin("assert.eq", e.assertEq),
		"ne":       starlark.NewBuiltin("assert.ne", e.assertNe),
		"true":     starlark.NewBuiltin("assert.true", e.assertTrue),
		"lt":       starlark.NewBuiltin("assert.lt", e.assertLt),
		"contains": starlark.NewBuiltin("assert.contains", e.assertContains),
		"fails":    starlark.NewBuiltin("assert.fails", e.assertFails),
	}}
}

func (e *scriptEnv) assertEq(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var got, want starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &got, &want); err != nil {
		return nil, err
	}
	if eq, err := starlark.Equal(got, want); err != nil {
		return nil, err
	} else if !eq {
		e.report(thread, "got %s, want %s", got.String(), want.String())
	}
	return starlark.None, nil
}

func (e *scriptEnv) assertNe(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, y starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
		return nil, err
	}
	if eq, err := starlark.Equal(x, y); err != nil {
		return nil, err
	} else if eq {
		e.report(thread, "both are %s", x.String())
	}
	return starlark.None, nil
}

func (e *scriptEnv) assertTrue(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var cond starlark.Value
	msg := "assertion failed"
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &cond, &msg); err != nil {
		return nil, err
	}
	if !cond.Truth() {
		e.report(thread, "%s", msg)
	}
	return starlark.None, nil
}

func (e *scriptEnv) assertLt(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, y starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
		return nil, err
	}
	if lt, err := starlark.Compare(syntax.LT, x, y); err != nil {
		return nil, err
	} else if !lt {
		e.report(thread, "%s is not less than %s", x.String(), y.String())
	}
	return starlark.None, nil
}

func (e *scriptEnv) assertContains(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, y starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
		return nil, err
	}
	if in, err := starlark.Binary(syntax.IN, y, x); err != nil {
		return nil, err
	} else if !in.Truth() {
		e.report(thread, "%s does not contain %s", x.String(), y.String())
	}
	return starlark.None, nil
}

// assertFails calls fn and checks that it fails with an error matching
// pattern. It returns the error's message so the script can look closer.
func (e *scriptEnv) assertFails(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fn starlark.Callable
	var pattern string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &fn, &pattern); err != nil {
		return nil, err
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	_, err = starlark.Call(thread, fn, nil, nil)
	if err == nil {
		e.report(thread, "succeeded, want an error matching %q", pattern)
		return starlark.None, nil
	}
	msg := err.Error()
	var ev *starlark.EvalError
	if errors.As(err, &ev) {
		msg = ev.Msg
	}
	if !re.MatchString(msg) {
		e.report(thread, "error %q does not match %q", msg, pattern)
	}
	return starlark.String(msg), nil
}

// testModule gives a script the test's scratch folder, file access, the
// captured output and the run folders.
func (e *scriptEnv) testModule() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "test", Members: starlark.StringDict{
		"tmpdir":   starlark.String(e.tmpdir),
		"run_root": starlark.String(e.runRoot),
		"read":     starlark.NewBuiltin("test.read", e.read),
		"write":    starlark.NewBuiltin("test.write", e.write),
		"append":   starlark.NewBuiltin("test.append", e.append),
		"exists":   starlark.NewBuiltin("test.exists", e.exists),
		"listdir":  starlark.NewBuiltin("test.listdir", e.listdir),
		"stdout":   starlark.NewBuiltin("test.stdout", e.output),
		"run_dirs": starlark.NewBuiltin("test.run_dirs", e.runDirs),
	}}
}

func (e *scriptEnv) read(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &path); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return starlark.String(data), nil
}

func (e *scriptEnv) write(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path, data string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &path, &data); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return starlark.None, nil
}

// append adds data to the file at path: a python app's side effect that a
// later try can see.
func (e *scriptEnv) append(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path, data string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &path, &data); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	_, werr := f.WriteString(data)
	if err := errors.Join(werr, f.Close()); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return starlark.None, nil
}

func (e *scriptEnv) exists(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &path); err != nil {
		return nil, err
	}
	_, err := os.Stat(path)
	return starlark.Bool(err == nil), nil
}

func (e *scriptEnv) listdir(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &path); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	names := make([]string, len(entries))
	for i, en := range entries {
		names[i] = en.Name()
	}
	sort.Strings(names)
	return stringList(names), nil
}

func (e *scriptEnv) output(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return starlark.String(e.stdout.String()), nil
}

func (e *scriptEnv) runDirs(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return stringList(e.session.RunDirs()), nil
}

func stringList(xs []string) *starlark.List {
	l := make([]starlark.Value, len(xs))
	for i, x := range xs {
		l[i] = starlark.String(x)
	}
	return starlark.NewList(l)
}
