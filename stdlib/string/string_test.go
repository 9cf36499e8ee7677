package string

import (
	"testing"

	"go.starlark.net/starlark"
)

func TestCapwords(t *testing.T) {
	t.Parallel()
	m := Module()
	for _, tt := range []struct {
		args starlark.Tuple
		want string
	}{
		{starlark.Tuple{starlark.String(" hello  WORLD ")}, "Hello World"},
		{starlark.Tuple{starlark.String("a,b,,c"), starlark.String(",")}, "A,B,,C"},
		{starlark.Tuple{starlark.String("")}, ""},
	} {
		got, err := starlark.Call(&starlark.Thread{}, m.Members["capwords"], tt.args, nil)
		if err != nil || got != starlark.String(tt.want) {
			t.Errorf("capwords%v = %v, %v; want %q", tt.args, got, err, tt.want)
		}
	}
}
