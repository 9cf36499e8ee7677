package format

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// TestBuiltins calls the _sf_ builtins as lowered code does.
func TestBuiltins(t *testing.T) {
	t.Parallel()
	shout := starlark.NewBuiltin("format", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		return starlark.String(strings.ToUpper(string(args[0].(starlark.String)))), nil
	})
	env := Builtins()
	env["mod"] = starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{"format": shout})
	for _, tc := range []struct{ expr, want string }{
		{`_sf_fstring("{0!r:>6}|{1:{2}}", "a", 3.5, ".2f")`, `"   'a'|3.50"`},
		{`_sf_format("{} {k}", 1, k=[None])`, `"1 [None]"`},
		{`_sf_format(mod, "delegated")`, `"DELEGATED"`},
		{`_sf_format_map("{a}-{b}", {"a": 1, "b": "x"})`, `"1-x"`},
		{`_sf_percent("%05.1f|%-4s|", (2.25, "ab"))`, `"002.2|ab  |"`},
		{`_sf_percent(17, 5)`, `2`},
		{`_sf_percent(-7.5, 2)`, `0.5`},
		{`_sf_pow(2, 100)`, `1267650600228229401496703205376`},
		{`_sf_pow(2, -2)`, `0.25`},
		{`_sf_is(None, None), _sf_is([], []), _sf_is(1, 1.0), _sf_is(True, 1)`, `(True, False, False, False)`},
		{`_sf_chain(1, "<", 2, "<=", lambda: 2, "not in", lambda: [3])`, `True`},
		{`_sf_chain(3, "<", 2, "<", lambda: fail("evaluated"))`, `False`},
		{`_sf_chain(1, "is", 1, "is not", lambda: None, "in", lambda: [None])`, `True`},
	} {
		v, err := starlark.EvalOptions(&syntax.FileOptions{}, &starlark.Thread{}, "t", tc.expr, env)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got := v.String(); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

// TestBuiltinErrors checks that errors name the operation the user wrote.
func TestBuiltinErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ expr, want string }{
		{`_sf_fstring("{0:d}", "s")`, `f-string: Unknown format code 'd' for object of type 'str'`},
		{`_sf_format("{}")`, `format: Replacement index 0 out of range for positional args tuple`},
		{`_sf_percent("%s %s", 1)`, `%: not enough arguments for format string`},
		{`_sf_percent([], 1)`, `unknown binary op: list % int`},
		{`_sf_pow(10.0, 400)`, `**: (34, 'Numerical result out of range')`},
		{`_sf_pow(-8, 0.5)`, `**: negative number cannot be raised to a fractional power`},
		{`_sf_format(1, "x")`, `int has no .format field or method`},
		{`_sf_chain(1, "<", "a")`, `int < string not implemented`},
	} {
		_, err := starlark.EvalOptions(&syntax.FileOptions{}, &starlark.Thread{}, "t", tc.expr, Builtins())
		if err == nil {
			t.Errorf("%s: no error, want %s", tc.expr, tc.want)
			continue
		}
		if got := err.(*starlark.EvalError).Msg; got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.expr, got, tc.want)
		}
	}
}
