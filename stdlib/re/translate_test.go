package re

import (
	"strings"
	"testing"
)

func TestTranslate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pattern string
		flags   int
		want    string // Go syntax, with "$" for dollarMark; or "error: substring"
	}{
		{`\d+\Z`, 0, `\d+\z`},
		{`a{,3}`, 0, `a{0,3}`},
		{`\u00e9`, 0, `\x{00e9}`},
		{`(?P<n>x)`, 0, `(?P<n>x)`},
		{`(?<n>x)`, 0, `(?P<n>x)`},
		{`(?#note)a`, 0, `a`},
		{`(?a)\w`, 0, `\w`},
		{`(?i)a`, 0, `a`},
		{`(?i:a)b`, 0, `(?i:a)b`},
		{`(?u:a)`, 0, `(?:a)`},
		{`a$`, 0, "a$"},
		{`a$`, flagM, `a(?m:$)`},
		{`[$]`, 0, `[$]`},
		{`[]a]`, 0, `[\]a]`},
		{`[^]a]`, 0, `[^\]a]`},
		{`[[]`, 0, `[\[]`},
		{`[\b]`, 0, `[\x08]`},
		{" a b # comment\n c", flagX, `abc`},
		{`(?x) a\ b [ ]`, 0, `a\ b[ ]`},
		{`(a)\1`, 0, "error: backreference"},
		{`(?P=n)`, 0, "error: named backreference"},
		{`a(?=b)`, 0, "error: lookahead"},
		{`a(?!b)`, 0, "error: lookahead"},
		{`(?<=a)b`, 0, "error: lookbehind"},
		{`(?>a)`, 0, "error: atomic"},
		{`(?(1)a|b)`, 0, "error: conditional"},
		{`\q`, 0, "error: bad escape \\q"},
		{`\u12`, 0, "error: incomplete escape"},
		{`a`, flagL, "error: LOCALE"},
	} {
		tr, err := translate(tt.pattern, tt.flags)
		if strings.HasPrefix(tt.want, "error: ") {
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(tt.want, "error: ")) {
				t.Errorf("translate(%q) = %v, want an error with %q", tt.pattern, err, tt.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("translate(%q): %v", tt.pattern, err)
			continue
		}
		if got := strings.ReplaceAll(tr.goSyntax, dollarMark, "$"); got != tt.want {
			t.Errorf("translate(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}

func TestDollarBeforeFinalNewline(t *testing.T) {
	t.Parallel()
	p, err := compile(`(\w+)$`, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		text string
		want string // the match, or "" for none
	}{
		{"word", "word"},
		{"word\n", "word"},
		{"two\nlines", "lines"},
		{"two\nlines\n", ""}, // Python finds "lines"; see the package doc
		{"end\n\n", ""},
	} {
		idx := p.regexpFor(0, tt.text).FindStringIndex(tt.text)
		got := ""
		if idx != nil {
			got = tt.text[idx[0]:idx[1]]
		}
		if got != tt.want {
			t.Errorf("search(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}
