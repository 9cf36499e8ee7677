package exc

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
	pysys "github.com/starflow-hpc/starflow/stdlib/sys"
)

func TestIsSubclass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind, base string
		want       bool
	}{
		{"ZeroDivisionError", "ArithmeticError", true},
		{"ZeroDivisionError", "Exception", true},
		{"ZeroDivisionError", "BaseException", true},
		{"KeyError", "LookupError", true},
		{"KeyError", "IndexError", false},
		{"TimeoutError", "OSError", true},
		{"FileNotFoundError", "OSError", true},
		{"NotImplementedError", "RuntimeError", true},
		{"UnsupportedOperation", "ValueError", true},
		{"UnsupportedOperation", "OSError", true},
		{"DependencyError", "ParslError", true},
		{"BashExitFailure", "AppException", true},
		{"AppTimeout", "Exception", true},
		{"JoinError", "AppException", false},
		{"KeyboardInterrupt", "Exception", false},
		{"SystemExit", "BaseException", true},
		{"MadeUpError", "Exception", true}, // unknown kinds are ordinary errors
		{"Exception", "ValueError", false},
	}
	for _, tt := range tests {
		if got := IsSubclass(tt.kind, tt.base); got != tt.want {
			t.Errorf("IsSubclass(%s, %s) = %v, want %v", tt.kind, tt.base, got, tt.want)
		}
	}
}

// call calls a builtin of Builtins with args.
func call(t *testing.T, name string, args ...starlark.Value) (starlark.Value, error) {
	t.Helper()
	return starlark.Call(&starlark.Thread{}, Builtins()[name], args, nil)
}

func TestExceptionValues(t *testing.T) {
	t.Parallel()
	s := func(x string) starlark.Value { return starlark.String(x) }
	tests := []struct {
		class string
		args  []starlark.Value
		str   string
	}{
		{"ValueError", []starlark.Value{s("bad")}, "bad"},
		{"ValueError", nil, ""},
		{"KeyError", []starlark.Value{s("k")}, "'k'"},
		{"IndexError", []starlark.Value{starlark.MakeInt(3)}, "3"},
		{"RuntimeError", []starlark.Value{s("a"), starlark.MakeInt(1)}, `("a", 1)`},
		{"IOError", []starlark.Value{s("disk")}, "disk"},
	}
	for _, tt := range tests {
		v, err := call(t, tt.class, tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.String(); got != tt.str {
			t.Errorf("str(%s%v) = %q, want %q", tt.class, tt.args, got, tt.str)
		}
		class, _ := v.(starlark.HasAttrs).Attr("__class__")
		if name, _ := class.(starlark.HasAttrs).Attr("__name__"); name != s(v.Type()) {
			t.Errorf("%s: __class__.__name__ is %v, want %s", tt.class, name, v.Type())
		}
	}
	if v, _ := call(t, "IOError"); v.Type() != "OSError" {
		t.Errorf("IOError() is a %s, want an OSError", v.Type())
	}
	if _, err := starlark.Call(&starlark.Thread{}, Builtins()["ValueError"], nil,
		[]starlark.Tuple{{s("msg"), s("x")}}); err == nil {
		t.Error("ValueError(msg=...) succeeded, want an error")
	}
}

// appError stands for the script API's task failures, which implement
// Error.
type appError struct{ v starlark.Value }

func (e *appError) Error() string             { return "task failed" }
func (e *appError) Exception() starlark.Value { return e.v }

func TestValueOf(t *testing.T) {
	t.Parallel()
	thread := &starlark.Thread{}
	// evalError is how a builtin's error reaches the script: wrapped.
	evalError := func(err error) error {
		_, got := starlark.Call(thread, starlark.NewBuiltin("f", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return nil, err
		}), nil, nil)
		return got
	}
	custom := &Exception{kind: "JoinError", args: starlark.Tuple{starlark.String("joined")}}
	_, raisedErr := call(t, Raise, ClassOf("ValueError"))
	tests := []struct {
		name      string
		err       error
		kind, msg string
	}{
		{"raised class", raisedErr, "ValueError", ""},
		{"task failure", fmt.Errorf("wrapped: %w", &appError{custom}), "JoinError", "joined"},
		{"stdlib error", evalError(pyerr.New("StatisticsError", "statistics.mean", "no data")), "StatisticsError", "no data"},
		{"sys.exit", evalError(&pysys.ExitError{Code: 2}), "SystemExit", "2"},
		{"division", evalError(errors.New("floored division by zero")), "ZeroDivisionError", "floored division by zero"},
		{"missing key", evalError(errors.New(`key "k" not in dict`)), "KeyError", `key "k" not in dict`},
		{"fail", evalError(errors.New("fail: gave up")), "Exception", "gave up"},
		{"unpacking", evalError(errors.New("too many values to unpack (got 3, want 2)")), "ValueError", "too many values to unpack (got 3, want 2)"},
		{"plain Go error", errors.New("odd"), "Exception", "odd"},
	}
	for _, tt := range tests {
		v := ValueOf(tt.err)
		if v.Type() != tt.kind || str(v) != tt.msg {
			t.Errorf("%s: got %s %q, want %s %q", tt.name, v.Type(), str(v), tt.kind, tt.msg)
		}
		if KindOf(tt.err) != tt.kind || Message(tt.err) != tt.msg {
			t.Errorf("%s: KindOf, Message disagree with ValueOf", tt.name)
		}
	}
	// A raised value is the very value the except clause binds, and the
	// error behind it stays reachable.
	exit := &pysys.ExitError{Code: 3}
	v := ValueOf(evalError(exit))
	_, again := call(t, Raise, v)
	if ValueOf(again) != v {
		t.Error("raise of a caught exception: the handler sees another value")
	}
	if got := new(*pysys.ExitError); !errors.As(again, got) || *got != exit {
		t.Error("raise of a caught sys.exit lost its ExitError")
	}
	// raise SystemExit(n) stops the script as sys.exit(n) does.
	sysExit, _ := call(t, "SystemExit", starlark.MakeInt(4))
	_, err := call(t, Raise, sysExit)
	if got := new(*pysys.ExitError); !errors.As(err, got) || (*got).Code != 4 {
		t.Errorf("raise SystemExit(4) gave %v, want exit status 4", err)
	}
}

func TestTryOutcomes(t *testing.T) {
	t.Parallel()
	body := func(v starlark.Value, err error) starlark.Value {
		return starlark.NewBuiltin("try", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return v, err
		})
	}
	_, boom := call(t, Raise, ClassOf("KeyError"))
	tests := []struct {
		name       string
		body       starlark.Value
		kind       string
		value, exc string
	}{
		{"ok", body(starlark.None, nil), "ok", "None", "None"},
		{"return", body(starlark.Tuple{starlark.String("return"), starlark.MakeInt(7)}, nil), "return", "7", "None"},
		{"break", body(starlark.String("break"), nil), "break", "None", "None"},
		{"error", body(nil, boom), "error", "None", "KeyError"},
	}
	for _, tt := range tests {
		v, err := call(t, Try, tt.body)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		o := v.(*Outcome)
		exc := o.exc.String()
		if o.exc != starlark.None {
			exc = o.exc.Type()
		}
		if o.kind != tt.kind || o.value.String() != tt.value || exc != tt.exc {
			t.Errorf("%s: got %s %s %s, want %s %s %s", tt.name, o.kind, o.value, exc, tt.kind, tt.value, tt.exc)
		}
	}
	// Cancellation is not an outcome: nothing more may run.
	thread := &starlark.Thread{}
	loop, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "c.star", "def f():\n    for x in range(10):\n        pass\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	thread.Cancel("interrupted")
	if _, err := starlark.Call(thread, Builtins()[Try], starlark.Tuple{loop["f"]}, nil); err == nil ||
		!strings.Contains(err.Error(), "cancelled") {
		t.Errorf("a cancelled body gave %v, want the cancellation", err)
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	_, boom := call(t, Raise, ClassOf("FileNotFoundError"))
	o := &Outcome{kind: kindError, exc: ValueOf(boom), err: boom}
	for _, tt := range []struct {
		classes starlark.Value
		want    bool
	}{
		{ClassOf("OSError"), true},
		{ClassOf("IOError"), true},
		{ClassOf("ValueError"), false},
		{starlark.Tuple{ClassOf("ValueError"), starlark.Tuple{ClassOf("KeyError"), ClassOf("FileNotFoundError")}}, true},
	} {
		got, err := call(t, Match, o, tt.classes)
		if err != nil || got != starlark.Bool(tt.want) {
			t.Errorf("match %s: got %v, %v, want %v", tt.classes, got, err, tt.want)
		}
	}
	decode := starlark.NewBuiltin("json.JSONDecodeError", nil)
	if got, _ := call(t, Match, o, decode); got != starlark.False {
		t.Errorf("except json.JSONDecodeError caught a FileNotFoundError")
	}
	if _, err := call(t, Match, o, starlark.String("OSError")); err == nil {
		t.Error("except \"OSError\": succeeded, want an error")
	}
}

func TestDelSlice(t *testing.T) {
	t.Parallel()
	none := starlark.None
	i := func(n int) starlark.Value { return starlark.MakeInt(n) }
	// Expected results are CPython's for list(range(10)).
	tests := []struct {
		lo, hi, step starlark.Value
		want         string
	}{
		{none, none, none, "[]"},
		{i(2), i(5), none, "[0, 1, 5, 6, 7, 8, 9]"},
		{i(-3), none, none, "[0, 1, 2, 3, 4, 5, 6]"},
		{none, none, i(2), "[1, 3, 5, 7, 9]"},
		{i(8), i(2), i(-2), "[0, 1, 2, 3, 5, 7, 9]"},
		{none, none, i(-3), "[1, 2, 4, 5, 7, 8]"},
		{i(20), i(30), none, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
		{i(-20), i(3), none, "[3, 4, 5, 6, 7, 8, 9]"},
	}
	for _, tt := range tests {
		elems := make([]starlark.Value, 10)
		for j := range elems {
			elems[j] = i(j)
		}
		l := starlark.NewList(elems)
		if _, err := call(t, DelSlice, l, tt.lo, tt.hi, tt.step); err != nil {
			t.Fatal(err)
		}
		if l.String() != tt.want {
			t.Errorf("del l[%s:%s:%s]: got %s, want %s", tt.lo, tt.hi, tt.step, l, tt.want)
		}
	}
}
