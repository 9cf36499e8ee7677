package os

import "testing"

func TestPathFunctions(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		fn, in, want string
	}{
		{"normpath", "a/./b/../c", "a/c"},
		{"normpath", "/../a", "/a"},
		{"normpath", "///a//b", "/a/b"},
		{"normpath", "//a", "//a"},
		{"normpath", "a/..", "."},
		{"normpath", "../../x", "../../x"},
		{"basename", "a/b/", ""},
		{"dirname", "/", "/"},
		{"dirname", "//x", "//"},
		{"dirname", "a/b//c", "a/b"},
		{"root", "archive.tar.gz", "archive.tar"},
		{"root", "/a.b/c", "/a.b/c"},
		{"root", "...", "..."},
		{"ext", ".profile.bak", ".bak"},
		{"ext", "noext", ""},
	} {
		var got string
		switch tt.fn {
		case "normpath":
			got = normpath(tt.in)
		case "basename":
			_, got = split(tt.in)
		case "dirname":
			got, _ = split(tt.in)
		case "root":
			got, _ = splitext(tt.in)
		case "ext":
			_, got = splitext(tt.in)
		}
		if got != tt.want {
			t.Errorf("%s(%q) = %q, want %q", tt.fn, tt.in, got, tt.want)
		}
	}
}

func TestJoin(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		parts []string
		want  string
	}{
		{[]string{"a"}, "a"},
		{[]string{"a", "b"}, "a/b"},
		{[]string{"a/", "b"}, "a/b"},
		{[]string{"a", "/b", "c"}, "/b/c"},
		{[]string{"", ""}, ""},
		{[]string{"a", "", "b"}, "a/b"},
	} {
		if got := Join(tt.parts[0], tt.parts[1:]...); got != tt.want {
			t.Errorf("join%q = %q, want %q", tt.parts, got, tt.want)
		}
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	env := map[string]string{"HOME": "/home/u/", "X": "1", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, tt := range []struct{ in, want string }{
		{"~", "/home/u"},
		{"~/a", "/home/u/a"},
		{"a~", "a~"},
		{"$X/$Y/${X}x/$EMPTY.", "1/$Y/1x/."},
		{"cost $", "cost $"},
		{"${unclosed", "${unclosed"},
	} {
		var got string
		if tt.in[0] == '~' || tt.in == "a~" {
			got = expanduser(tt.in, lookup)
		} else {
			got = expandvars(tt.in, lookup)
		}
		if got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
