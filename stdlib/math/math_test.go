package math

import (
	gomath "math"
	"testing"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

func TestErrors(t *testing.T) {
	t.Parallel()
	m := Module()
	f, i := func(x float64) starlark.Value { return starlark.Float(x) }, starlark.MakeInt
	big := starlark.MakeInt(1).Lsh(2000)
	for _, tt := range []struct {
		fn   string
		args starlark.Tuple
		want string // the result, or the error kind
	}{
		{"sqrt", starlark.Tuple{f(-1)}, "ValueError"},
		{"sqrt", starlark.Tuple{big}, "OverflowError"},
		{"exp", starlark.Tuple{i(710)}, "OverflowError"},
		{"log", starlark.Tuple{i(0)}, "ValueError"},
		{"log", starlark.Tuple{big}, "1386.2943611198907"},
		{"log10", starlark.Tuple{big}, "602.0599913279624"},
		{"log2", starlark.Tuple{big}, "2000.0"},
		{"gamma", starlark.Tuple{f(0)}, "ValueError"},
		{"gamma", starlark.Tuple{f(200)}, "OverflowError"},
		{"ceil", starlark.Tuple{f(-0.5)}, "0"},
		{"floor", starlark.Tuple{big}, big.String()},
		{"trunc", starlark.Tuple{f(1e20)}, "100000000000000000000"},
		{"isinf", starlark.Tuple{big}, "False"},
		{"fmod", starlark.Tuple{f(5), f(gomath.Inf(1))}, "5.0"},
		{"pow", starlark.Tuple{f(10), f(400)}, "OverflowError"},
		{"comb", starlark.Tuple{i(60), i(30)}, "118264581564861424"},
		{"lcm", starlark.Tuple{i(0), i(5)}, "0"},
		{"gcd", starlark.Tuple{i(-12), i(18)}, "6"},
	} {
		v, err := starlark.Call(&starlark.Thread{}, m.Members[tt.fn], tt.args, nil)
		got := pyerr.KindOf(err)
		if err == nil {
			got = v.String()
		} else if got == "" {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s%v = %s, want %s", tt.fn, tt.args, got, tt.want)
		}
	}
}
