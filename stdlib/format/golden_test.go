package format

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// TestGolden replays testdata/golden.json, written by gen_golden.py under
// CPython 3.11: format(), str.format, %, str(), repr() and ** must return
// exactly what Python returned, or raise the same exception with the same
// message.
func TestGolden(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Python string
		Cases  []struct {
			Op, Value, Spec, Args, Kwargs string
			Want                          *string
			Err                           string
		}
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	thread := &starlark.Thread{Name: "golden"}
	eval := func(expr string) starlark.Value {
		v, err := starlark.EvalOptions(&syntax.FileOptions{Set: true}, thread, "golden", expr, nil)
		if err != nil {
			t.Fatalf("eval %s: %v", expr, err)
		}
		return v
	}
	failures := 0
	for _, c := range golden.Cases {
		v := eval(c.Value)
		var got string
		var err error
		switch c.Op {
		case "format":
			got, err = Value(v, c.Spec)
		case "str.format":
			var kwargs []starlark.Tuple
			for _, kv := range eval(c.Kwargs).(*starlark.Dict).Items() {
				kwargs = append(kwargs, kv)
			}
			got, err = StrFormat(string(v.(starlark.String)), eval(c.Args).(starlark.Tuple), kwargs)
		case "percent":
			got, err = Percent(string(v.(starlark.String)), eval(c.Args))
		case "str":
			got = Str(v)
		case "repr":
			got = Repr(v)
		case "pow":
			var r starlark.Value
			if r, err = Pow(v, eval(c.Args)); err == nil {
				got = Repr(r)
			}
		default:
			t.Fatalf("unknown op %q", c.Op)
		}
		var gotErr string
		if err != nil {
			var pe *pyerr.Error
			if !errors.As(err, &pe) {
				t.Errorf("%s %s %q %s: error %v is not a Python exception", c.Op, c.Value, c.Spec, c.Args, err)
				continue
			}
			gotErr = pe.Kind + ": " + pe.Msg
		}
		want := c.Err
		if c.Want != nil {
			want = *c.Want
		}
		if gotErr != "" {
			got = gotErr
		}
		if got != want {
			if failures++; failures <= 60 {
				t.Errorf("%s(%s, %q, %s %s):\n got %q\nwant %q", c.Op, c.Value, c.Spec, c.Args, c.Kwargs, got, want)
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d cases differ from Python %s", failures, len(golden.Cases), golden.Python)
	}
}
