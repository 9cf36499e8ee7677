package format

import (
	"math"
	"math/big"
	"strings"

	"go.starlark.net/starlark"
)

// Percent is Python's printf-style template % args: args is a tuple of
// values, a mapping for %(name)s conversions, or a single value.
func Percent(template string, args starlark.Value) (string, error) {
	p := &percentArgs{}
	switch a := args.(type) {
	case starlark.Tuple:
		p.list = a
	default:
		p.list, p.single = starlark.Tuple{args}, true
		if m, ok := args.(starlark.Mapping); ok {
			if _, isStr := args.(starlark.String); !isStr {
				p.mapping = m
			}
		}
	}
	var b strings.Builder
	for i := 0; i < len(template); {
		j := strings.IndexByte(template[i:], '%')
		if j < 0 {
			b.WriteString(template[i:])
			break
		}
		b.WriteString(template[i : i+j])
		i += j + 1
		end, err := p.conversion(&b, template, i)
		if err != nil {
			return "", err
		}
		i = end
	}
	if p.next < len(p.list) && p.mapping == nil {
		return "", errorf("TypeError", "not all arguments converted during string formatting")
	}
	return b.String(), nil
}

type percentArgs struct {
	list    starlark.Tuple
	single  bool // args was one value, not a tuple
	mapping starlark.Mapping
	next    int
}

func (p *percentArgs) take() (starlark.Value, error) {
	if p.next >= len(p.list) {
		return nil, errorf("TypeError", "not enough arguments for format string")
	}
	v := p.list[p.next]
	p.next++
	return v, nil
}

// conversion renders the conversion whose text starts at s[i:], just
// after its '%', and returns the index past it.
func (p *percentArgs) conversion(b *strings.Builder, s string, i int) (int, error) {
	var v starlark.Value
	if i < len(s) && s[i] == '(' {
		if p.mapping == nil {
			return 0, errorf("TypeError", "format requires a mapping")
		}
		depth, j := 1, i+1
		for ; j < len(s) && depth > 0; j++ {
			switch s[j] {
			case '(':
				depth++
			case ')':
				depth--
			}
		}
		if depth > 0 {
			return 0, errorf("ValueError", "incomplete format key")
		}
		key := starlark.String(s[i+1 : j-1])
		x, found, err := p.mapping.Get(key)
		if err != nil {
			return 0, err
		}
		if !found {
			return 0, errorf("KeyError", "%s", Repr(key))
		}
		v, i = x, j
	}
	sp := spec{width: -1, prec: -1}
	left := false
flags:
	for ; i < len(s); i++ {
		switch s[i] {
		case '-':
			left = true
		case '+':
			sp.sign = '+'
		case ' ':
			if sp.sign == 0 {
				sp.sign = ' '
			}
		case '#':
			sp.alt = true
		case '0':
			sp.zero = true
		default:
			break flags
		}
	}
	var err error
	if i, sp.width, err = p.star(s, i); err != nil {
		return 0, err
	}
	if sp.width < -1 { // "*" took a negative width: left-justify
		left, sp.width = true, -sp.width-1
	}
	if i < len(s) && s[i] == '.' {
		if i, sp.prec, err = p.star(s, i+1); err != nil {
			return 0, err
		}
		if sp.prec < 0 {
			sp.prec = 0
		}
	}
	for i < len(s) && (s[i] == 'h' || s[i] == 'l' || s[i] == 'L') {
		i++
	}
	if i >= len(s) {
		return 0, errorf("ValueError", "incomplete format")
	}
	typ := s[i]
	i++
	if typ == '%' {
		b.WriteByte('%')
		return i, nil
	}
	if v == nil {
		if v, err = p.take(); err != nil {
			return 0, err
		}
	}
	if left {
		sp.align, sp.zero = '<', false
	}
	out, err := percentValue(v, typ, sp, i-1)
	if err != nil {
		return 0, err
	}
	b.WriteString(out)
	return i, nil
}

// star reads a width or precision: digits, or "*" taking it from the
// arguments. It returns -1 when there is none.
func (p *percentArgs) star(s string, i int) (int, int, error) {
	if i < len(s) && s[i] == '*' {
		v, err := p.take()
		if err != nil {
			return 0, 0, err
		}
		n, ok := v.(starlark.Int)
		if !ok {
			return 0, 0, errorf("TypeError", "* wants int")
		}
		w, _ := n.Int64()
		if w < 0 {
			return i + 1, int(w) - 1, nil // marks a negative width
		}
		return i + 1, int(w), nil
	}
	i, n := digits(s, i)
	return i, n, nil
}

// percentValue formats one value for conversion typ.
func percentValue(v starlark.Value, typ byte, sp spec, at int) (string, error) {
	switch typ {
	case 's', 'r', 'a':
		var s string
		switch typ {
		case 's':
			s = Str(v)
		case 'r':
			s = Repr(v)
		default:
			s = ascii(v)
		}
		if sp.prec >= 0 {
			s = truncate(s, sp.prec)
		}
		return pad(s, spec{width: sp.width, align: sp.align}, '>'), nil
	case 'c':
		var s string
		switch x := v.(type) {
		case starlark.String:
			if len([]rune(string(x))) != 1 {
				return "", errorf("TypeError", "%%c requires int or char")
			}
			s = string(x)
		case starlark.Int:
			n, ok := x.Int64()
			if !ok || n < 0 || n > 0x10ffff {
				return "", errorf("OverflowError", "%%c arg not in range(0x110000)")
			}
			s = string(rune(n))
		default:
			return "", errorf("TypeError", "%%c requires int or char")
		}
		return pad(s, spec{width: sp.width, align: sp.align}, '>'), nil
	case 'd', 'i', 'u', 'x', 'X', 'o':
		i, err := percentInt(v, typ)
		if err != nil {
			return "", err
		}
		return percentDigits(i, typ, sp), nil
	case 'e', 'E', 'f', 'F', 'g', 'G':
		f, ok, err := toFloat(v)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", errorf("TypeError", "must be real number, not %s", typeName(v))
		}
		sp.typ = typ
		if sp.prec < 0 {
			sp.prec = 6
		}
		return floatSpec(f, sp, "float")
	}
	return "", errorf("ValueError", "unsupported format character '%c' (0x%x) at index %d", typ, typ, at)
}

// percentInt converts v for an integer conversion: %d accepts floats
// (truncated), %x and %o only integers.
func percentInt(v starlark.Value, typ byte) (starlark.Int, error) {
	if i, ok := toInt(v); ok {
		return i, nil
	}
	f, ok := v.(starlark.Float)
	if !ok || typ == 'x' || typ == 'X' || typ == 'o' {
		want := "a real number"
		if typ == 'x' || typ == 'X' || typ == 'o' {
			want = "an integer"
		}
		return starlark.Int{}, errorf("TypeError", "%%%c format: %s is required, not %s", typ, want, typeName(v))
	}
	if math.IsInf(float64(f), 0) {
		return starlark.Int{}, errorf("OverflowError", "cannot convert float infinity to integer")
	}
	if math.IsNaN(float64(f)) {
		return starlark.Int{}, errorf("ValueError", "cannot convert float NaN to integer")
	}
	return starlark.NumberToInt(f)
}

// percentDigits formats an integer with printf's flags: the precision is
// a minimum number of digits, '#' adds 0o/0x/0X.
func percentDigits(i starlark.Int, typ byte, sp spec) string {
	n := bigOf(i)
	base, prefix := 10, ""
	switch typ {
	case 'o':
		base, prefix = 8, "0o"
	case 'x':
		base, prefix = 16, "0x"
	case 'X':
		base, prefix = 16, "0X"
	}
	digits := new(big.Int).Abs(n).Text(base)
	if typ == 'X' {
		digits = strings.ToUpper(digits)
	}
	if len(digits) < sp.prec {
		digits = strings.Repeat("0", sp.prec-len(digits)) + digits
	}
	if !sp.alt {
		prefix = ""
	}
	sp.prec = -1
	return sp.finish(number{neg: n.Sign() < 0, prefix: prefix, intPart: digits}, 0)
}
