package format

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// Str is Python's str(v): what print and "{}" show. It differs from
// Starlark's String() where Python users would notice: strings inside
// containers are quoted 'so', floats print as Python prints them
// (1e+16, 1000000000000000.0, inf) and None, True and False are spelt the
// same.
func Str(v starlark.Value) string {
	if s, ok := v.(starlark.String); ok {
		return string(s)
	}
	var b strings.Builder
	writeRepr(&b, v, nil)
	return b.String()
}

// Repr is Python's repr(v).
func Repr(v starlark.Value) string {
	var b strings.Builder
	writeRepr(&b, v, nil)
	return b.String()
}

// ascii is Python's ascii(v): repr with every non-ASCII rune escaped.
func ascii(v starlark.Value) string {
	r := Repr(v)
	var b strings.Builder
	for _, c := range r {
		switch {
		case c < utf8.RuneSelf:
			b.WriteRune(c)
		case c <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, c)
		case c <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			fmt.Fprintf(&b, `\U%08x`, c)
		}
	}
	return b.String()
}

// writeRepr writes Python's repr of v. seen holds the containers being
// written, so that a list holding itself prints [...] as in Python.
func writeRepr(b *strings.Builder, v starlark.Value, seen []starlark.Value) {
	switch v := v.(type) {
	case starlark.String:
		quoteString(b, string(v), false)
	case starlark.Bytes:
		b.WriteByte('b')
		quoteString(b, string(v), true)
	case starlark.Float:
		b.WriteString(floatRepr(float64(v)))
	case starlark.Int:
		b.WriteString(v.String())
	case starlark.Bool:
		if v {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case starlark.NoneType:
		b.WriteString("None")
	case *starlark.List:
		if isSeen(seen, v) {
			b.WriteString("[...]")
			return
		}
		seen = append(seen, v)
		b.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, v.Index(i), seen)
		}
		b.WriteByte(']')
	case starlark.Tuple:
		b.WriteByte('(')
		for i, x := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, x, seen)
		}
		if len(v) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case *starlark.Dict:
		if isSeen(seen, v) {
			b.WriteString("{...}")
			return
		}
		seen = append(seen, v)
		b.WriteByte('{')
		for i, kv := range v.Items() {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, kv[0], seen)
			b.WriteString(": ")
			writeRepr(b, kv[1], seen)
		}
		b.WriteByte('}')
	case *starlark.Set:
		if v.Len() == 0 {
			b.WriteString("set()")
			return
		}
		b.WriteByte('{')
		iter := v.Iterate()
		defer iter.Done()
		var x starlark.Value
		for i := 0; iter.Next(&x); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, x, seen)
		}
		b.WriteByte('}')
	default:
		b.WriteString(v.String())
	}
}

func isSeen(seen []starlark.Value, v starlark.Value) bool {
	for _, s := range seen {
		if s == v {
			return true
		}
	}
	return false
}

// quoteString writes s quoted as Python's repr does: single quotes unless
// s holds a single quote and no double quote; non-printable runes and
// invalid UTF-8 escaped.
func quoteString(b *strings.Builder, s string, bytes bool) {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	b.WriteByte(q)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if bytes && s[i] >= utf8.RuneSelf {
			r, size = utf8.RuneError, 1
		}
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteByte(q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(b, `\x%02x`, r)
		case r < utf8.RuneSelf || unicode.IsPrint(r):
			b.WriteString(s[i : i+size])
		case r <= 0xff:
			fmt.Fprintf(b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			fmt.Fprintf(b, `\U%08x`, r)
		}
		i += size
	}
	b.WriteByte(q)
}

// floatRepr is Python's repr of a float: the shortest digits that read
// back the same value, in fixed notation for exponents from -4 to 15 (with
// ".0" when integral) and in scientific notation otherwise.
func floatRepr(f float64) string {
	if s, ok := nonFinite(f, false); ok {
		return s
	}
	digits, exp := shortest(math.Abs(f))
	s := layout(digits, exp, -4, 16, true)
	if math.Signbit(f) {
		return "-" + s
	}
	return s
}

func nonFinite(f float64, upper bool) (string, bool) {
	var s string
	switch {
	case math.IsInf(f, 1):
		s = "inf"
	case math.IsInf(f, -1):
		s = "-inf"
	case math.IsNaN(f):
		s = "nan"
	default:
		return "", false
	}
	if upper {
		s = strings.ToUpper(s)
	}
	return s, true
}

// shortest returns the shortest decimal digits of f >= 0 and the exponent
// of the first digit: f = 0.d1d2d3... * 10^(exp+1).
func shortest(f float64) (string, int) {
	return sciDigits(strconv.FormatFloat(f, 'e', -1, 64))
}

// sciDigits splits Go's "d.ddde±xx" into its digits and exponent.
func sciDigits(s string) (string, int) {
	mant, e, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(e)
	return strings.Replace(mant, ".", "", 1), exp
}

// layout writes digits (the first at 10^exp) in fixed notation when
// lo <= exp < hi and in scientific notation otherwise; dot0 adds ".0" to
// an integral fixed result.
func layout(digits string, exp, lo, hi int, dot0 bool) string {
	if exp < lo || exp >= hi {
		s := digits[:1]
		if len(digits) > 1 {
			s += "." + digits[1:]
		}
		return s + expSuffix(exp, 'e')
	}
	var s string
	switch {
	case exp < 0:
		s = "0." + strings.Repeat("0", -exp-1) + digits
	case exp+1 >= len(digits):
		s = digits + strings.Repeat("0", exp+1-len(digits))
		if dot0 {
			s += ".0"
		}
	default:
		s = digits[:exp+1] + "." + digits[exp+1:]
	}
	return s
}

// expSuffix is Python's exponent: e+05, e-10, e+100.
func expSuffix(exp int, e byte) string {
	sign := byte('+')
	if exp < 0 {
		sign, exp = '-', -exp
	}
	s := strconv.Itoa(exp)
	if len(s) < 2 {
		s = "0" + s
	}
	return string([]byte{e, sign}) + s
}

// typeName is Python's name for the type of v, as Python's messages say it.
func typeName(v starlark.Value) string {
	switch v.(type) {
	case starlark.String:
		return "str"
	case starlark.NoneType:
		return "NoneType"
	case *starlark.Function:
		return "function"
	case *starlark.Builtin:
		return "builtin_function_or_method"
	}
	return v.Type()
}

// toInt returns v as an integer if it is one to Python (bools are).
func toInt(v starlark.Value) (starlark.Int, bool) {
	switch v := v.(type) {
	case starlark.Int:
		return v, true
	case starlark.Bool:
		if v {
			return starlark.MakeInt(1), true
		}
		return starlark.MakeInt(0), true
	}
	return starlark.Int{}, false
}

// toFloat returns v as a float if Python's float() of it is a number.
func toFloat(v starlark.Value) (float64, bool, error) {
	switch v := v.(type) {
	case starlark.Float:
		return float64(v), true, nil
	case starlark.Int, starlark.Bool:
		i, _ := toInt(v)
		f := float64(i.Float())
		if math.IsInf(f, 0) {
			return 0, true, errorf("OverflowError", "int too large to convert to float")
		}
		return f, true, nil
	}
	return 0, false, nil
}

func bigOf(i starlark.Int) *big.Int { return i.BigInt() }
