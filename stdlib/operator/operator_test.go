package operator

import (
	"testing"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

func TestGetItem(t *testing.T) {
	t.Parallel()
	d := starlark.NewDict(1)
	d.SetKey(starlark.String("k"), starlark.MakeInt(1))
	l := starlark.NewList([]starlark.Value{starlark.MakeInt(10), starlark.MakeInt(20)})
	for _, tt := range []struct {
		x, k starlark.Value
		want string // the value, or the error kind
	}{
		{d, starlark.String("k"), "1"},
		{d, starlark.String("z"), "KeyError"},
		{l, starlark.MakeInt(-1), "20"},
		{l, starlark.MakeInt(2), "IndexError"},
		{l, starlark.String("x"), "TypeError"},
		{starlark.String("abc"), starlark.MakeInt(1), `"b"`},
		{starlark.MakeInt(5), starlark.MakeInt(0), "TypeError"},
	} {
		v, err := GetItem(tt.x, tt.k)
		got := pyerr.KindOf(err)
		if err == nil {
			got = v.String()
		}
		if got != tt.want {
			t.Errorf("%v[%v] = %s, want %s", tt.x, tt.k, got, tt.want)
		}
	}
}
