package collections

import "testing"

func TestIsIdent(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"x", true}, {"_x1", true}, {"été", true}, {"1x", false}, {"", false}, {"a-b", false}, {"a b", false},
	} {
		if got := isIdent(tt.s); got != tt.want {
			t.Errorf("isIdent(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestJoinAnd(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{[]string{"'a'"}, "'a'"},
		{[]string{"'a'", "'b'"}, "'a' and 'b'"},
		{[]string{"'a'", "'b'", "'c'"}, "'a', 'b' and 'c'"},
	} {
		if got := joinAnd(tt.in); got != tt.want {
			t.Errorf("joinAnd(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
