package glob

import "testing"

func TestTranslate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pattern, name string
		want          bool
	}{
		{"*.txt", "a.txt", true},
		{"*.txt", "a.txt.bak", false},
		{"?", "ab", false},
		{"[abc]x", "bx", true},
		{"[!abc]x", "bx", false},
		{"[!abc]x", "dx", true},
		{"[a-c]", "b", true},
		{"[]]", "]", true},
		{"[!]]", "a", true},
		{"[", "[", true},
		{"a[", "a[", true},
		{`a\b`, `a\b`, true},
		{"*", ".hidden", true}, // hiding dot files is glob's job, not fnmatch's
		{"a.b", "axb", false},
		{"(x)+", "(x)+", true},
		{"[^a]", "^", true},
	} {
		if got := compile(tt.pattern).MatchString(tt.name); got != tt.want {
			t.Errorf("fnmatch(%q, %q) = %v, want %v (regexp %s)", tt.name, tt.pattern, got, tt.want, Translate(tt.pattern))
		}
	}
}
