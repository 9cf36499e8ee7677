package interp

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// TestRemap rewrites text with edits that change lengths and checks that
// parse errors, resolve errors and runtime backtraces still point at the
// user's text.
func TestRemap(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		edit      func(src string, e *edits)
		want      string // the error, as FormatError prints its first line
	}{
		{
			name: "longer keyword, error later on the line",
			src:  "x = 1\ntry: y = x + nope\n",
			edit: func(src string, e *edits) {
				i := strings.Index(src, "try")
				e.replace(i, i+3, "if True")
			},
			want: "t.star:2:14: undefined: nope",
		},
		{
			name: "shorter text, runtime error after it",
			src:  "def f():\n    return [1, 2][5]\nz = f()\n",
			edit: func(src string, e *edits) {
				i := strings.Index(src, "[1, 2]")
				e.replace(i, i+len("[1, 2]"), "[1,2]")
			},
			want: "t.star:2:18: list index 5 out of range [-2:1]",
		},
		{
			name: "inserted text maps to where it stands",
			src:  "a = 1\nb = a ++ c\n",
			edit: func(src string, e *edits) {
				i := strings.Index(src, "++")
				e.replace(i, i+2, "+ (0 +")
				e.replace(len(src)-1, len(src)-1, ")")
			},
			want: "t.star:2:10: undefined: c",
		},
		{
			name: "multi-line replacement",
			src:  "s = '''a\nb'''\nq = s + 1\n",
			edit: func(src string, e *edits) {
				e.replace(0, len("s = '''a\nb'''"), "s = (\n'a\\nb'\n)")
			},
			want: "t.star:3:7: unknown binary op: string + int",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &edits{src: []byte(tc.src)}
			tc.edit(tc.src, e)
			text, pm := e.apply()
			f, err := FileOptions().Parse("t.star", text, 0)
			err = pm.remapError(err)
			if err == nil {
				if pm != nil {
					pm.remapFile(f)
				}
				var prog *starlark.Program
				prog, err = starlark.FileProgram(f, func(string) bool { return false })
				if err == nil {
					_, err = prog.Init(&starlark.Thread{}, nil)
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			first, _, _ := strings.Cut(FormatError(err), "\n")
			if first != tc.want {
				t.Errorf("got  %s\nwant %s", first, tc.want)
			}
		})
	}
}

func TestPosMapOrig(t *testing.T) {
	e := &edits{src: []byte("ab\ncdef\n")}
	e.replace(3, 4, "XYZ") // "c" -> "XYZ"
	text, pm := e.apply()
	if string(text) != "ab\nXYZdef\n" {
		t.Fatalf("text %q", text)
	}
	for _, tc := range []struct{ line, col, wl, wc int32 }{
		{1, 2, 1, 2}, {2, 1, 2, 1}, {2, 3, 2, 1}, {2, 4, 2, 2}, {2, 6, 2, 4},
	} {
		if l, c := pm.orig(tc.line, tc.col); l != tc.wl || c != tc.wc {
			t.Errorf("orig(%d,%d) = %d,%d want %d,%d", tc.line, tc.col, l, c, tc.wl, tc.wc)
		}
	}
}
