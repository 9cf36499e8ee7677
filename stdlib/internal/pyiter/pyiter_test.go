package pyiter

import (
	"testing"

	"go.starlark.net/starlark"
)

func TestIterate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		v    starlark.Value
		want string
	}{
		{starlark.String("héllo"), `["h", "é", "l", "l", "o"]`},
		{starlark.String(""), `[]`},
		{starlark.Tuple{starlark.MakeInt(1)}, `[1]`},
	} {
		it := Iterate(tt.v)
		var items []starlark.Value
		var x starlark.Value
		for it.Next(&x) {
			items = append(items, x)
		}
		it.Done()
		if got := starlark.NewList(items).String(); got != tt.want {
			t.Errorf("Iterate(%v) = %s, want %s", tt.v, got, tt.want)
		}
	}
	if Iterate(starlark.MakeInt(1)) != nil {
		t.Errorf("an int is not iterable")
	}
}
