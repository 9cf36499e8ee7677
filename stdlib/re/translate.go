package re

import (
	"fmt"
	"strings"
	"unicode"
)

// Python's flag values, as re.I, re.M, ... are.
const (
	flagI = 2
	flagL = 4
	flagM = 8
	flagS = 16
	flagU = 32
	flagX = 64
	flagA = 256
)

// dollarMark stands for a "$" that is not in multiline mode, until
// translate knows what to replace it with.
const dollarMark = "\x00$"

// translation is a Python pattern in Go's syntax.
type translation struct {
	goSyntax  string // with dollarMark for each non-multiline "$"
	hasDollar bool
	flags     int // the pattern's flags after inline ones, for .flags
}

// unsupported is a Python feature RE2 lacks, named for the error.
func unsupported(what, pattern string) error {
	return fmt.Errorf("%s is not supported: starflow's re is Go's RE2, which has no backtracking (pattern %q)", what, pattern)
}

// translate rewrites a Python pattern for Go's regexp: \Z becomes \z,
// {,n} becomes {0,n}, \uXXXX becomes \x{XXXX}, verbose patterns lose
// their whitespace and comments, inline flags Go lacks (a, u) go away,
// and what RE2 cannot do (backreferences, lookaround, atomic groups,
// conditionals) is an error that says so.
func translate(pattern string, flags int) (*translation, error) {
	t := &translation{flags: flags}
	// A leading (?flags) applies to the whole pattern, as in Python.
	rest := pattern
	for strings.HasPrefix(rest, "(?") {
		end := strings.IndexByte(rest, ')')
		if end < 0 || !allFlagLetters(rest[2:end]) {
			break
		}
		for _, c := range rest[2:end] {
			t.flags |= flagOf(c)
		}
		rest = rest[end+1:]
	}
	if t.flags&flagL != 0 {
		return nil, fmt.Errorf("re.LOCALE is not supported (pattern %q)", pattern)
	}
	verbose := t.flags&flagX != 0
	var b strings.Builder
	r := []rune(rest)
	inClass := false
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '\\':
			if i+1 >= len(r) {
				return nil, fmt.Errorf("bad escape (end of pattern) at position %d", i)
			}
			i++
			s, skip, err := translateEscape(r, i, inClass, pattern)
			if err != nil {
				return nil, err
			}
			b.WriteString(s)
			i += skip
		case inClass:
			if c == ']' {
				inClass = false
			}
			if c == '[' {
				b.WriteString(`\[`)
				continue
			}
			b.WriteRune(c)
		case c == '[':
			inClass = true
			b.WriteRune(c)
			// A "]" first in a class (after an optional "^") is literal.
			if i+1 < len(r) && r[i+1] == '^' {
				b.WriteRune('^')
				i++
			}
			if i+1 < len(r) && r[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
		case verbose && unicode.IsSpace(c):
		case verbose && c == '#':
			for i+1 < len(r) && r[i+1] != '\n' {
				i++
			}
		case c == '(' && i+1 < len(r) && r[i+1] == '?':
			s, skip, err := translateGroup(r, i, pattern)
			if err != nil {
				return nil, err
			}
			b.WriteString(s)
			i += skip
		case c == '{' && i+1 < len(r) && r[i+1] == ',':
			b.WriteString("{0")
		case c == '$':
			if t.flags&flagM != 0 {
				b.WriteString("(?m:$)")
			} else {
				b.WriteString(dollarMark)
				t.hasDollar = true
			}
		default:
			b.WriteRune(c)
		}
	}
	t.goSyntax = b.String()
	return t, nil
}

func allFlagLetters(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if flagOf(c) == 0 {
			return false
		}
	}
	return true
}

func flagOf(c rune) int {
	switch c {
	case 'i':
		return flagI
	case 'L':
		return flagL
	case 'm':
		return flagM
	case 's':
		return flagS
	case 'u':
		return flagU
	case 'x':
		return flagX
	case 'a':
		return flagA
	}
	return 0
}

// translateEscape translates the escape whose letter is r[i], returning
// the Go text and how many more runes it used.
func translateEscape(r []rune, i int, inClass bool, pattern string) (string, int, error) {
	c := r[i]
	hex := func(n int) (string, int, error) {
		if i+n >= len(r) {
			return "", 0, fmt.Errorf("incomplete escape \\%c at position %d", c, i-1)
		}
		digits := string(r[i+1 : i+1+n])
		for _, d := range digits {
			if !strings.ContainsRune("0123456789abcdefABCDEF", d) {
				return "", 0, fmt.Errorf("incomplete escape \\%c%s at position %d", c, digits, i-1)
			}
		}
		return `\x{` + digits + `}`, n, nil
	}
	switch {
	case c >= '1' && c <= '9' && !inClass:
		return "", 0, unsupported("a backreference (\\"+string(c)+")", pattern)
	case c == 'Z':
		return `\z`, 0, nil
	case c == 'b' && inClass:
		return `\x08`, 0, nil
	case c == 'u':
		return hex(4)
	case c == 'U':
		return hex(8)
	case c == 'N':
		return "", 0, unsupported(`\N{...}`, pattern)
	case c == 'x':
		return hex(2)
	case strings.ContainsRune("AbBdDsSwWntrfva0", c):
		return `\` + string(c), 0, nil
	case c < 128 && (unicode.IsLetter(c) || unicode.IsDigit(c)):
		return "", 0, fmt.Errorf("bad escape \\%c at position %d", c, i-1)
	}
	return `\` + string(c), 0, nil
}

// translateGroup translates a group that starts "(?" at r[i].
func translateGroup(r []rune, i int, pattern string) (string, int, error) {
	rest := string(r[i+2:])
	switch {
	case strings.HasPrefix(rest, "P<"), strings.HasPrefix(rest, ":"):
		return "(?", 1, nil
	case strings.HasPrefix(rest, "P="):
		return "", 0, unsupported("a named backreference (?P=...)", pattern)
	case strings.HasPrefix(rest, "#"):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return "", 0, fmt.Errorf("missing ), unterminated comment at position %d", i)
		}
		return "", 1 + len([]rune(rest[:end+1])), nil
	case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"):
		return "", 0, unsupported("lookahead (?= or (?!", pattern)
	case strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
		return "", 0, unsupported("lookbehind (?<= or (?<!", pattern)
	case strings.HasPrefix(rest, ">"):
		return "", 0, unsupported("an atomic group (?>...)", pattern)
	case strings.HasPrefix(rest, "("):
		return "", 0, unsupported("a conditional group (?(...)", pattern)
	case strings.HasPrefix(rest, "<"):
		return "(?P", 1, nil // Python 3.12 does not have (?<name>; Go does
	}
	// Scoped flags, (?i:...) or (?-i:...): keep what Go knows.
	var keep strings.Builder
	n := 0
	term := ')'
	for _, c := range rest {
		if c == ':' || c == ')' {
			term = c
			break
		}
		n++
		switch c {
		case 'i', 'm', 's', '-':
			keep.WriteRune(c)
		case 'a', 'u':
		case 'x':
			return "", 0, unsupported("a scoped verbose flag (?x:...)", pattern)
		default:
			return "", 0, fmt.Errorf("unknown extension ?%c at position %d", c, i+1)
		}
	}
	flags := strings.TrimSuffix(keep.String(), "-")
	if flags == "" {
		if term == ')' {
			return "", 1 + n + 1, nil // (?a) alone: nothing left to say
		}
		return "(?:", 1 + n + 1, nil
	}
	return "(?" + flags, 1 + n, nil
}
