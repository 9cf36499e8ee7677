package format

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

func formatInt(i starlark.Int, specText, kind string) (string, error) {
	sp, err := parseSpec(specText, kind)
	if err != nil {
		return "", err
	}
	return intSpec(i, sp, kind)
}

func intSpec(i starlark.Int, sp spec, kind string) (string, error) {
	switch sp.typ {
	case 0, 'd', 'n', 'b', 'o', 'x', 'X', 'c':
	case 'e', 'E', 'f', 'F', 'g', 'G', '%':
		f, _, err := toFloat(i)
		if err != nil {
			return "", err
		}
		return floatSpec(f, sp, kind)
	default:
		return "", unknownCode(sp.typ, kind)
	}
	if sp.prec >= 0 {
		return "", errorf("ValueError", "Precision not allowed in integer format specifier")
	}
	if sp.z {
		return "", errorf("ValueError", "Negative zero coercion (z) not allowed in integer format specifier")
	}
	n := bigOf(i)
	if sp.typ == 'c' {
		switch {
		case sp.sign != 0:
			return "", errorf("ValueError", "Sign not allowed with integer format specifier 'c'")
		case sp.alt:
			return "", errorf("ValueError", "Alternate form (#) not allowed with integer format specifier 'c'")
		case !n.IsInt64():
			return "", errorf("OverflowError", "Python int too large to convert to C long")
		case n.Sign() < 0 || n.Cmp(big.NewInt(0x10ffff)) > 0:
			return "", errorf("OverflowError", "%%c arg not in range(0x110000)")
		}
		return sp.finish(number{intPart: string(rune(n.Int64()))}, 0), nil
	}
	base, prefix, size := 10, "", 3
	switch sp.typ {
	case 'b':
		base, prefix, size = 2, "0b", 4
	case 'o':
		base, prefix, size = 8, "0o", 4
	case 'x', 'X':
		base, prefix, size = 16, "0x", 4
	}
	if !sp.alt {
		prefix = ""
	}
	digits := new(big.Int).Abs(n).Text(base)
	if sp.typ == 'X' {
		digits, prefix = strings.ToUpper(digits), strings.ToUpper(prefix)
	}
	return sp.finish(number{neg: n.Sign() < 0, prefix: prefix, intPart: digits}, size), nil
}

func formatFloat(f float64, specText, kind string) (string, error) {
	sp, err := parseSpec(specText, kind)
	if err != nil {
		return "", err
	}
	return floatSpec(f, sp, kind)
}

func floatSpec(f float64, sp spec, kind string) (string, error) {
	switch sp.typ {
	case 0, 'e', 'E', 'f', 'F', 'g', 'G', 'n', '%':
	default:
		return "", unknownCode(sp.typ, kind)
	}
	upper := sp.typ == 'E' || sp.typ == 'F' || sp.typ == 'G'
	neg := math.Signbit(f)
	a := math.Abs(f)
	var body string
	if s, ok := nonFinite(a, upper); ok {
		body = s
		if sp.typ == '%' {
			body += "%"
		}
	} else {
		body = floatBody(a, sp)
		if upper {
			body = strings.ToUpper(body)
		}
	}
	finite := !math.IsInf(f, 0) && !math.IsNaN(f)
	if neg && sp.z && finite && isZero(body) {
		neg = false
	}
	if math.IsNaN(f) {
		neg = false
	}
	end := 0
	for end < len(body) && '0' <= body[end] && body[end] <= '9' {
		end++
	}
	return sp.finish(number{neg: neg, intPart: body[:end], rest: body[end:]}, 3), nil
}

// floatBody formats a finite a >= 0 without sign or padding.
func floatBody(a float64, sp spec) string {
	p := sp.prec
	switch sp.typ {
	case 'f', 'F', '%':
		if p < 0 {
			p = 6
		}
		x, suffix := a, ""
		if sp.typ == '%' {
			x, suffix = a*100, "%"
		}
		s := strconv.FormatFloat(x, 'f', p, 64)
		if sp.alt && p == 0 {
			s += "."
		}
		return s + suffix
	case 'e', 'E':
		if p < 0 {
			p = 6
		}
		digits, exp := sciDigits(strconv.FormatFloat(a, 'e', p, 64))
		return sci(digits, exp, sp.alt)
	case 'g', 'G', 'n':
		if p < 0 {
			p = 6
		}
		return general(a, p, sp.alt, false)
	}
	if p < 0 {
		// No type, no precision: str(f).
		digits, exp := shortest(a)
		if sp.alt && (exp < -4 || exp >= 16) {
			return sci(digits, exp, true)
		}
		return layout(digits, exp, -4, 16, true)
	}
	return general(a, p, sp.alt, true)
}

// sci writes digits (the first at 10^exp) as d.ddde±xx.
func sci(digits string, exp int, alt bool) string {
	s := digits[:1]
	if len(digits) > 1 || alt {
		s += "." + digits[1:]
	}
	return s + expSuffix(exp, 'e')
}

// general is Python's 'g' with p significant digits. Without the type
// letter (dot0), an integral fixed result keeps ".0" and scientific
// notation starts one exponent earlier, as Python does.
func general(a float64, p int, alt, dot0 bool) string {
	if p == 0 {
		p = 1
	}
	digits, exp := sciDigits(strconv.FormatFloat(a, 'e', p-1, 64))
	if !alt {
		digits = strings.TrimRight(digits, "0")
		if digits == "" {
			digits = "0"
		}
	}
	hi := p
	if dot0 {
		hi = p - 1
	}
	if exp < -4 || exp >= hi {
		return sci(digits, exp, alt)
	}
	s := layout(digits, exp, -4, hi+1, dot0)
	if alt && !strings.Contains(s, ".") {
		s += "."
	}
	return s
}

func isZero(body string) bool {
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c >= '1' && c <= '9' {
			return false
		}
		if c == 'e' || c == 'E' {
			break
		}
	}
	return true
}

// A number is a formatted number in pieces, for sign, padding and
// grouping to be applied as Python applies them.
type number struct {
	neg     bool
	prefix  string // 0x, 0o, 0b
	intPart string // digits before any point
	rest    string // point, fraction, exponent, '%'
}

// finish adds the sign, grouping (in groups of size) and padding.
func (sp spec) finish(n number, size int) string {
	sign := ""
	switch {
	case n.neg:
		sign = "-"
	case sp.sign == '+' || sp.sign == ' ':
		sign = string(sp.sign)
	}
	fill, align := sp.fill, sp.align
	if sp.zero {
		fill = '0'
		if align == 0 {
			align = '='
		}
	}
	lead := sign + n.prefix
	digits := n.intPart
	if sp.grouping != 0 && size > 0 && digits != "" {
		minWidth := 0
		if fill == '0' && align == '=' {
			minWidth = sp.width - len(lead) - utf8.RuneCountInString(n.rest)
		}
		digits = group(digits, minWidth, sp.grouping, size)
	}
	if align == '=' {
		return lead + pad(digits+n.rest, spec{fill: fill, align: '>', width: sp.width - len(lead)}, '>')
	}
	return pad(lead+digits+n.rest, spec{fill: fill, align: align, width: sp.width}, '>')
}

// group inserts sep between groups of size digits from the right and,
// like CPython, pads with zeros (grouped too) up to minWidth.
func group(digits string, minWidth int, sep byte, size int) string {
	var parts []string
	remaining, end := len(digits), len(digits)
	for {
		l := min(size, max(remaining, minWidth, 1))
		zeros := max(0, l-remaining)
		chars := max(0, min(remaining, l))
		parts = append(parts, strings.Repeat("0", zeros)+digits[end-chars:end])
		end -= chars
		remaining -= chars
		minWidth -= l
		if remaining <= 0 && minWidth <= 0 {
			break
		}
		minWidth--
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
		if i > 0 {
			b.WriteByte(sep)
		}
	}
	return b.String()
}
