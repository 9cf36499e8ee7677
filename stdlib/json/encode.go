package json

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// encoder is Python's json.JSONEncoder: its options and the text so far.
type encoder struct {
	thread      *starlark.Thread
	op          string
	indent      string
	pretty      bool // indent was given (even "" or 0): one item per line
	itemSep     string
	keySep      string
	sortKeys    bool
	ensureASCII bool
	allowNaN    bool
	skipKeys    bool
	def         starlark.Value // default=, or None
	buf         strings.Builder
	stack       []starlark.Value // containers being encoded, to catch cycles
}

// maxDepth stands in for Python's recursion limit.
const maxDepth = 1000

func (e *encoder) encode(v starlark.Value, level int) error {
	switch v := v.(type) {
	case starlark.NoneType:
		e.buf.WriteString("null")
	case starlark.Bool:
		if v {
			e.buf.WriteString("true")
		} else {
			e.buf.WriteString("false")
		}
	case starlark.Int:
		e.buf.WriteString(v.String())
	case starlark.Float:
		s, err := e.float(float64(v))
		if err != nil {
			return err
		}
		e.buf.WriteString(s)
	case starlark.String:
		e.quote(string(v))
	case *starlark.Set, starlark.Bytes:
		return e.fallback(v, level)
	case starlark.IterableMapping:
		return e.container(v, level, func() error { return e.object(v.Items(), level) })
	case *starlarkstruct.Struct:
		// Not Python, but the Starlark way to write a record.
		return e.container(v, level, func() error { return e.object(structItems(v), level) })
	case *starlark.List, starlark.Tuple:
		return e.container(v, level, func() error { return e.array(v.(starlark.Indexable), level) })
	default:
		// A namedtuple is a tuple in Python, so it is an array.
		if seq, ok := v.(interface {
			starlark.Indexable
			starlark.Iterable
		}); ok && v.Type() != "range" {
			return e.container(v, level, func() error { return e.array(seq, level) })
		}
		return e.fallback(v, level)
	}
	return nil
}

// container encodes a list or dict, refusing one that contains itself.
func (e *encoder) container(v starlark.Value, level int, body func() error) error {
	for _, outer := range e.stack {
		if sameContainer(outer, v) {
			return pyerr.New("ValueError", e.op, "Circular reference detected")
		}
	}
	if len(e.stack) >= maxDepth {
		return pyerr.New("RecursionError", e.op, "maximum recursion depth exceeded while encoding a JSON object")
	}
	e.stack = append(e.stack, v)
	defer func() { e.stack = e.stack[:len(e.stack)-1] }()
	return body()
}

func sameContainer(x, y starlark.Value) bool {
	switch x := x.(type) {
	case starlark.Tuple:
		yt, ok := y.(starlark.Tuple)
		return ok && len(x) > 0 && len(x) == len(yt) && &x[0] == &yt[0]
	case *starlark.List, *starlark.Dict:
		return x == y
	}
	return false
}

// fallback is what Python does with a value it cannot encode: call
// default, or fail.
func (e *encoder) fallback(v starlark.Value, level int) error {
	if e.def == starlark.None {
		return pyerr.New("TypeError", e.op, "Object of type %s is not JSON serializable", v.Type())
	}
	r, err := starlark.Call(e.thread, e.def, starlark.Tuple{v}, nil)
	if err != nil {
		return err
	}
	return e.container(v, level, func() error { return e.encode(r, level) })
}

// newline starts a line at level, when pretty-printing.
func (e *encoder) newline(level int) {
	if e.pretty {
		e.buf.WriteByte('\n')
		for i := 0; i < level; i++ {
			e.buf.WriteString(e.indent)
		}
	}
}

func (e *encoder) array(seq starlark.Indexable, level int) error {
	if seq.Len() == 0 {
		e.buf.WriteString("[]")
		return nil
	}
	e.buf.WriteByte('[')
	for i := 0; i < seq.Len(); i++ {
		if i > 0 {
			e.buf.WriteString(e.itemSep)
		}
		e.newline(level + 1)
		if err := e.encode(seq.Index(i), level+1); err != nil {
			return err
		}
	}
	e.newline(level)
	e.buf.WriteByte(']')
	return nil
}

func (e *encoder) object(items []starlark.Tuple, level int) error {
	if len(items) == 0 {
		e.buf.WriteString("{}")
		return nil
	}
	if e.sortKeys {
		var cmpErr error
		items = append([]starlark.Tuple(nil), items...)
		sort.SliceStable(items, func(i, j int) bool {
			less, err := starlark.Compare(syntax.LT, items[i][0], items[j][0])
			if err != nil && cmpErr == nil {
				cmpErr = pyerr.New("TypeError", e.op, "'<' not supported between instances of %s and %s",
					pyerr.TypeRepr(items[i][0]), pyerr.TypeRepr(items[j][0]))
			}
			return less
		})
		if cmpErr != nil {
			return cmpErr
		}
	}
	e.buf.WriteByte('{')
	first := true
	for _, kv := range items {
		key, ok, err := e.key(kv[0])
		if err != nil {
			return err
		}
		if !ok {
			continue // skipkeys
		}
		if !first {
			e.buf.WriteString(e.itemSep)
		}
		first = false
		e.newline(level + 1)
		e.quote(key)
		e.buf.WriteString(e.keySep)
		if err := e.encode(kv[1], level+1); err != nil {
			return err
		}
	}
	e.newline(level)
	e.buf.WriteByte('}')
	return nil
}

// key is a dict key as JSON text, the way Python converts non-str keys.
func (e *encoder) key(k starlark.Value) (string, bool, error) {
	switch k := k.(type) {
	case starlark.String:
		return string(k), true, nil
	case starlark.Float:
		s, err := e.float(float64(k))
		return s, err == nil, err
	case starlark.Bool:
		if k {
			return "true", true, nil
		}
		return "false", true, nil
	case starlark.NoneType:
		return "null", true, nil
	case starlark.Int:
		return k.String(), true, nil
	}
	if e.skipKeys {
		return "", false, nil
	}
	return "", false, pyerr.New("TypeError", e.op, "keys must be str, int, float, bool or None, not %s", k.Type())
}

func (e *encoder) float(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		if !e.allowNaN {
			return "", pyerr.New("ValueError", e.op, "Out of range float values are not JSON compliant")
		}
		switch {
		case math.IsNaN(f):
			return "NaN", nil
		case f > 0:
			return "Infinity", nil
		}
		return "-Infinity", nil
	}
	return FloatRepr(f), nil
}

// FloatRepr is Python's repr of a finite float: the shortest digits that
// read back the same, in positional notation for exponents from -5 to
// 15 ("0.0001", "1234567.5", "1e+16", "1e-05").
func FloatRepr(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	sci := strconv.FormatFloat(f, 'e', -1, 64) // "d.ddde±XX": Python's digits and exponent
	exp, _ := strconv.Atoi(sci[strings.LastIndexByte(sci, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return sci
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}

// quote writes s as a JSON string, escaping as Python does: with
// ensure_ascii, everything outside printable ASCII becomes \uXXXX.
func (e *encoder) quote(s string) {
	b := &e.buf
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20 || e.ensureASCII && r >= 0x7f && r < 0x10000:
				fmt.Fprintf(b, `\u%04x`, r)
			case e.ensureASCII && r >= 0x10000:
				r -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

func structItems(s *starlarkstruct.Struct) []starlark.Tuple {
	names := s.AttrNames()
	items := make([]starlark.Tuple, 0, len(names))
	for _, n := range names {
		v, _ := s.Attr(n)
		items = append(items, starlark.Tuple{starlark.String(n), v})
	}
	return items
}
