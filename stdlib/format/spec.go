package format

import (
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// A spec is a parsed format specification, Python's mini-language:
//
//	[[fill]align][sign]["z"]["#"]["0"][width][grouping]["." precision][type]
type spec struct {
	fill     rune // 0: not given
	align    byte // '<', '>', '^', '=' or 0: not given
	sign     byte // '+', '-', ' ' or 0
	z        bool // negative zero becomes zero (Python 3.11)
	alt      bool // '#'
	zero     bool // '0' before the width
	width    int  // -1: not given
	grouping byte // ',', '_' or 0
	prec     int  // -1: not given
	typ      byte // 0: not given
}

func isAlign(r rune) bool { return r == '<' || r == '>' || r == '^' || r == '=' }

// parseSpec parses s; kind is Python's type name for the messages.
func parseSpec(s, kind string) (spec, error) {
	sp := spec{width: -1, prec: -1}
	i := 0
	if r, size := utf8.DecodeRuneInString(s); size > 0 && size < len(s) && isAlign(rune(s[size])) {
		sp.fill, sp.align = r, s[size]
		i = size + 1
	} else if len(s) > 0 && isAlign(rune(s[0])) {
		sp.align = s[0]
		i = 1
	}
	if i < len(s) && (s[i] == '+' || s[i] == '-' || s[i] == ' ') {
		sp.sign = s[i]
		i++
	}
	if i < len(s) && s[i] == 'z' {
		sp.z = true
		i++
	}
	if i < len(s) && s[i] == '#' {
		sp.alt = true
		i++
	}
	if i < len(s) && s[i] == '0' && sp.fill == 0 {
		sp.zero = true
		i++
	}
	i, sp.width = digits(s, i)
	if i < len(s) && (s[i] == ',' || s[i] == '_') {
		sp.grouping = s[i]
		i++
		if i < len(s) && (s[i] == ',' || s[i] == '_') {
			return sp, errorf("ValueError", "Cannot specify both ',' and '_'.")
		}
	}
	if i < len(s) && s[i] == '.' {
		i, sp.prec = digits(s, i+1)
		if sp.prec < 0 {
			return sp, errorf("ValueError", "Format specifier missing precision")
		}
	}
	if len(s)-i > 1 {
		return sp, errorf("ValueError", "Invalid format specifier '%s' for object of type '%s'", s, kind)
	}
	if i < len(s) {
		sp.typ = s[i]
	}
	if sp.grouping != 0 && sp.typ != 0 {
		ok := strings.IndexByte("deEfFgG%", sp.typ) >= 0 || sp.grouping == '_' && strings.IndexByte("boxX", sp.typ) >= 0
		if !ok {
			return sp, errorf("ValueError", "Cannot specify '%c' with '%c'.", sp.grouping, sp.typ)
		}
	}
	return sp, nil
}

// digits reads a decimal number at s[i:], or -1 if there is none.
func digits(s string, i int) (int, int) {
	n := -1
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		if n < 0 {
			n = 0
		}
		if n < 1<<24 {
			n = n*10 + int(s[i]-'0')
		}
	}
	return i, n
}

// Value formats v by spec as Python's format(v, spec) does, for str, int,
// float, bool and None; any other value accepts only an empty spec and
// formats as Str(v).
func Value(v starlark.Value, specText string) (string, error) {
	switch x := v.(type) {
	case starlark.String:
		if specText == "" {
			return string(x), nil
		}
		return formatString(string(x), specText)
	case starlark.Int:
		if specText == "" {
			return x.String(), nil
		}
		return formatInt(x, specText, "int")
	case starlark.Bool:
		if specText == "" {
			return Str(x), nil
		}
		i, _ := toInt(x)
		return formatInt(i, specText, "bool")
	case starlark.Float:
		return formatFloat(float64(x), specText, "float")
	}
	if specText != "" {
		return "", errorf("TypeError", "unsupported format string passed to %s.__format__", typeName(v))
	}
	return Str(v), nil
}

func formatString(s, specText string) (string, error) {
	sp, err := parseSpec(specText, "str")
	if err != nil {
		return "", err
	}
	switch {
	case sp.typ != 0 && sp.typ != 's':
		return "", unknownCode(sp.typ, "str")
	case sp.sign != 0:
		return "", errorf("ValueError", "Sign not allowed in string format specifier")
	case sp.alt:
		return "", errorf("ValueError", "Alternate form (#) not allowed in string format specifier")
	case sp.z:
		return "", errorf("ValueError", "Negative zero coercion (z) not allowed in string format specifier")
	case sp.align == '=':
		return "", errorf("ValueError", "'=' alignment not allowed in string format specifier")
	case sp.grouping != 0:
		return "", errorf("ValueError", "Cannot specify '%c' with 's'.", sp.grouping)
	}
	if sp.prec >= 0 {
		s = truncate(s, sp.prec)
	}
	if sp.zero {
		sp.fill = '0'
	}
	return pad(s, sp, '<'), nil
}

func unknownCode(typ byte, kind string) error {
	return errorf("ValueError", "Unknown format code '%c' for object of type '%s'", typ, kind)
}

// truncate keeps the first n runes of s.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// pad aligns s in sp.width with sp.fill, def being the type's default
// alignment. The '=' alignment is done by number formatting itself.
func pad(s string, sp spec, def byte) string {
	n := utf8.RuneCountInString(s)
	if sp.width <= n {
		return s
	}
	fill := sp.fill
	if fill == 0 {
		fill = ' '
	}
	align := sp.align
	if align == 0 {
		align = def
	}
	total := sp.width - n
	left := 0
	switch align {
	case '>', '=':
		left = total
	case '^':
		left = total / 2
	}
	f := string(fill)
	return strings.Repeat(f, left) + s + strings.Repeat(f, total-left)
}
