package format

import (
	"strconv"
	"strings"

	"go.starlark.net/starlark"
)

// StrFormat is Python's template.format(*args, **kwargs).
func StrFormat(template string, args starlark.Tuple, kwargs []starlark.Tuple) (string, error) {
	f := &formatter{args: args, kwargs: kwargs}
	var b strings.Builder
	if err := f.render(&b, template, 2); err != nil {
		return "", err
	}
	return b.String(), nil
}

// A formatter renders one template, keeping the automatic field count
// across the nested fields of format specs, as Python does.
type formatter struct {
	args   starlark.Tuple
	kwargs []starlark.Tuple
	auto   int // next automatic field number; -1 once manual numbering is used
	manual bool
}

// render writes template to b; depth bounds the nesting of fields in
// format specs.
func (f *formatter) render(b *strings.Builder, s string, depth int) error {
	if depth < 0 {
		return errorf("ValueError", "Max string recursion exceeded")
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{', c == '}' && i+1 < len(s) && s[i+1] == '}':
			b.WriteByte(c)
			i += 2
		case c == '}':
			return errorf("ValueError", "Single '}' encountered in format string")
		case c == '{':
			if i+1 == len(s) {
				return errorf("ValueError", "Single '{' encountered in format string")
			}
			name, conv, specText, end, err := parseField(s, i+1)
			if err != nil {
				return err
			}
			if err := f.field(b, name, conv, specText, depth); err != nil {
				return err
			}
			i = end
		default:
			j := i + 1
			for j < len(s) && s[j] != '{' && s[j] != '}' {
				j++
			}
			b.WriteString(s[i:j])
			i = j
		}
	}
	return nil
}

// parseField parses the field that starts at s[i:], just after its '{':
// name[!conv][:spec]}. It returns the index past the closing '}'. A '['
// in the name hides ':' and '!' until its ']'; the spec may hold nested
// fields, whose braces are counted. Errors are Python's, in its order.
func parseField(s string, i int) (name string, conv byte, specText string, end int, err error) {
	start := i
	for i < len(s) && s[i] != ':' && s[i] != '!' && s[i] != '}' {
		if s[i] == '[' {
			for i < len(s) && s[i] != ']' {
				i++
			}
			if i == len(s) {
				break
			}
		}
		i++
	}
	if i == len(s) {
		return "", 0, "", 0, errorf("ValueError", "expected '}' before end of string")
	}
	name = s[start:i]
	if s[i] == '!' {
		if i+1 >= len(s) {
			return "", 0, "", 0, errorf("ValueError", "end of string while looking for conversion specifier")
		}
		conv = s[i+1]
		i += 2
		if i < len(s) && s[i] != ':' && s[i] != '}' {
			return "", 0, "", 0, errorf("ValueError", "expected ':' after conversion specifier")
		}
	}
	if i < len(s) && s[i] == '}' {
		return name, conv, "", i + 1, checkConv(conv)
	}
	if i < len(s) {
		i++ // ':'
	}
	specStart, depth := i, 1
	for ; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return name, conv, s[specStart:i], i + 1, checkConv(conv)
			}
		}
	}
	return "", 0, "", 0, errorf("ValueError", "unmatched '{' in format spec")
}

func checkConv(conv byte) error {
	switch conv {
	case 0, 'r', 's', 'a':
		return nil
	}
	return errorf("ValueError", "Unknown conversion specifier %c", conv)
}

// field renders one replacement field.
func (f *formatter) field(b *strings.Builder, name string, conv byte, specText string, depth int) error {
	v, err := f.lookup(name)
	if err != nil {
		return err
	}
	switch conv {
	case 'r':
		v = starlark.String(Repr(v))
	case 's':
		v = starlark.String(Str(v))
	case 'a':
		v = starlark.String(ascii(v))
	}
	if strings.IndexByte(specText, '{') >= 0 {
		var sb strings.Builder
		if err := f.render(&sb, specText, depth-1); err != nil {
			return err
		}
		specText = sb.String()
	}
	out, err := Value(v, specText)
	if err != nil {
		return err
	}
	b.WriteString(out)
	return nil
}

// lookup resolves a field name: an argument (automatic, by index or by
// keyword) followed by .attribute and [key] accessors.
func (f *formatter) lookup(name string) (starlark.Value, error) {
	first := len(name)
	for i := 0; i < len(name); i++ {
		if name[i] == '.' || name[i] == '[' {
			first = i
			break
		}
	}
	arg := name[:first]
	var v starlark.Value
	if arg == "" {
		if f.manual {
			return nil, errorf("ValueError", "cannot switch from manual field specification to automatic field numbering")
		}
		n := f.auto
		f.auto++
		var err error
		if v, err = f.positional(n); err != nil {
			return nil, err
		}
	} else if n, err := strconv.Atoi(arg); err == nil && n >= 0 {
		if f.auto > 0 {
			return nil, errorf("ValueError", "cannot switch from automatic field numbering to manual field specification")
		}
		f.manual = true
		if v, err = f.positional(n); err != nil {
			return nil, err
		}
	} else {
		for _, kv := range f.kwargs {
			if string(kv[0].(starlark.String)) == arg {
				v = kv[1]
			}
		}
		if v == nil {
			return nil, errorf("KeyError", "%s", pyQuote(arg))
		}
	}
	return accessors(v, name[first:])
}

func (f *formatter) positional(n int) (starlark.Value, error) {
	if n >= len(f.args) {
		return nil, errorf("IndexError", "Replacement index %d out of range for positional args tuple", n)
	}
	return f.args[n], nil
}

// accessors applies ".name" and "[key]" to v.
func accessors(v starlark.Value, rest string) (starlark.Value, error) {
	for rest != "" {
		switch rest[0] {
		case '.':
			end := 1
			for end < len(rest) && rest[end] != '.' && rest[end] != '[' {
				end++
			}
			attr := rest[1:end]
			if attr == "" {
				return nil, errorf("ValueError", "Empty attribute in format string")
			}
			x, err := getAttr(v, attr)
			if err != nil {
				return nil, err
			}
			v, rest = x, rest[end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, errorf("ValueError", "Missing ']' in format string")
			}
			key := rest[1:end]
			if key == "" {
				return nil, errorf("ValueError", "Empty attribute in format string")
			}
			var k starlark.Value = starlark.String(key)
			if n, err := strconv.Atoi(key); err == nil && n >= 0 {
				k = starlark.MakeInt(n)
			}
			x, err := getItem(v, k)
			if err != nil {
				return nil, err
			}
			v, rest = x, rest[end+1:]
		default:
			return nil, errorf("ValueError", "Only '.' or '[' may follow ']' in format field specifier")
		}
	}
	return v, nil
}

func getAttr(v starlark.Value, name string) (starlark.Value, error) {
	if ha, ok := v.(starlark.HasAttrs); ok {
		x, err := ha.Attr(name)
		if err != nil {
			return nil, err
		}
		if x != nil {
			return x, nil
		}
	}
	return nil, errorf("AttributeError", "'%s' object has no attribute '%s'", typeName(v), name)
}

func getItem(v, k starlark.Value) (starlark.Value, error) {
	switch x := v.(type) {
	case starlark.Mapping:
		y, found, err := x.Get(k)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, errorf("KeyError", "%s", Repr(k))
		}
		return y, nil
	case starlark.Indexable:
		n, ok := k.(starlark.Int)
		if !ok {
			return nil, errorf("TypeError", "%s indices must be integers or slices, not str", typeName(v))
		}
		i, _ := n.Int64()
		if i >= int64(x.Len()) {
			return nil, errorf("IndexError", "%s index out of range", typeName(v))
		}
		return x.Index(int(i)), nil
	}
	return nil, errorf("TypeError", "'%s' object is not subscriptable", typeName(v))
}

func pyQuote(s string) string { return Repr(starlark.String(s)) }
