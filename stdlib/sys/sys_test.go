package sys

import (
	"errors"
	"testing"

	"go.starlark.net/starlark"
)

func TestExit(t *testing.T) {
	t.Parallel()
	m := Module([]string{"x.star"}, starlark.None, starlark.None)
	for _, tt := range []struct {
		args starlark.Tuple
		code int
		msg  string
	}{
		{nil, 0, ""},
		{starlark.Tuple{starlark.None}, 0, ""},
		{starlark.Tuple{starlark.MakeInt(3)}, 3, ""},
		{starlark.Tuple{starlark.True}, 1, ""},
		{starlark.Tuple{starlark.String("bad input")}, 1, "bad input"},
		{starlark.Tuple{starlark.NewList(nil)}, 1, "[]"},
	} {
		_, err := starlark.Call(&starlark.Thread{}, m.Members["exit"], tt.args, nil)
		var exit *ExitError
		if !errors.As(err, &exit) {
			t.Errorf("exit%v = %v, want an *ExitError", tt.args, err)
			continue
		}
		if exit.Code != tt.code || exit.Message != tt.msg {
			t.Errorf("exit%v = %+v, want code %d, message %q", tt.args, exit, tt.code, tt.msg)
		}
	}
}
