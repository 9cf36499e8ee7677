package collections

import (
	"fmt"
	"strings"
	"unicode"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// RecordType is what namedtuple returns: the constructor of one kind of
// record.
type RecordType struct {
	name     string
	fields   []string
	defaults []starlark.Value // for the last len(defaults) fields
}

// Record is a namedtuple value.
type Record struct {
	typ    *RecordType
	values starlark.Tuple
}

var (
	_ starlark.Callable   = (*RecordType)(nil)
	_ starlark.HasAttrs   = (*RecordType)(nil)
	_ starlark.Indexable  = (*Record)(nil)
	_ starlark.Sequence   = (*Record)(nil)
	_ starlark.HasAttrs   = (*Record)(nil)
	_ starlark.Comparable = (*Record)(nil)
)

func newNamedTuple(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	var fieldSpec starlark.Value
	var rename bool
	var defaults, module starlark.Value = starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "typename", &name, "field_names", &fieldSpec,
		"rename?", &rename, "defaults?", &defaults, "module?", &module); err != nil {
		return nil, err
	}
	var fields []string
	switch spec := fieldSpec.(type) {
	case starlark.String:
		fields = strings.Fields(strings.ReplaceAll(string(spec), ",", " "))
	default:
		it := pyiter.Iterate(spec)
		if it == nil {
			return nil, pyerr.New("TypeError", b.Name(), "field_names: got %s, want str or list of str", spec.Type())
		}
		defer it.Done()
		var x starlark.Value
		for it.Next(&x) {
			s, ok := x.(starlark.String)
			if !ok {
				return nil, pyerr.New("TypeError", b.Name(), "Type names and field names must be strings")
			}
			fields = append(fields, string(s))
		}
	}
	seen := map[string]bool{}
	for i, f := range fields {
		if rename && (!isIdent(f) || strings.HasPrefix(f, "_") || seen[f]) {
			f = fmt.Sprintf("_%d", i)
			fields[i] = f
		}
		switch {
		case !isIdent(f):
			return nil, pyerr.New("ValueError", b.Name(), "Type names and field names must be valid identifiers: %s", pyerr.Repr(f))
		case strings.HasPrefix(f, "_") && !rename:
			return nil, pyerr.New("ValueError", b.Name(), "Field names cannot start with an underscore: %s", pyerr.Repr(f))
		case seen[f]:
			return nil, pyerr.New("ValueError", b.Name(), "Encountered duplicate field name: %s", pyerr.Repr(f))
		}
		seen[f] = true
	}
	if !isIdent(name) {
		return nil, pyerr.New("ValueError", b.Name(), "Type names and field names must be valid identifiers: %s", pyerr.Repr(name))
	}
	t := &RecordType{name: name, fields: fields}
	if defaults != starlark.None {
		it := pyiter.Iterate(defaults)
		if it == nil {
			return nil, pyerr.New("TypeError", b.Name(), "defaults: got %s, want an iterable", defaults.Type())
		}
		defer it.Done()
		var x starlark.Value
		for it.Next(&x) {
			t.defaults = append(t.defaults, x)
		}
		if len(t.defaults) > len(fields) {
			return nil, pyerr.New("TypeError", b.Name(), "Got more default values than field names")
		}
	}
	return t, nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

func (t *RecordType) String() string        { return "<class '" + t.name + "'>" }
func (t *RecordType) Type() string          { return "type" }
func (t *RecordType) Freeze()               {}
func (t *RecordType) Truth() starlark.Bool  { return true }
func (t *RecordType) Hash() (uint32, error) { return starlark.String(t.name).Hash() }
func (t *RecordType) Name() string          { return t.name }

// IsInstance reports whether v was made by this constructor.
func (t *RecordType) IsInstance(v starlark.Value) bool {
	r, ok := v.(*Record)
	return ok && r.typ == t
}

func (t *RecordType) AttrNames() []string {
	return []string{"__name__", "_field_defaults", "_fields", "_make"}
}

func (t *RecordType) Attr(name string) (starlark.Value, error) {
	switch name {
	case "__name__":
		return starlark.String(t.name), nil
	case "_fields":
		return t.fieldTuple(), nil
	case "_field_defaults":
		d := new(starlark.Dict)
		off := len(t.fields) - len(t.defaults)
		for i, v := range t.defaults {
			d.SetKey(starlark.String(t.fields[off+i]), v)
		}
		return d, nil
	case "_make":
		return starlark.NewBuiltin(t.name+"._make", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var src starlark.Value
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &src); err != nil {
				return nil, err
			}
			var vals starlark.Tuple
			it := pyiter.Iterate(src)
			if it == nil {
				return nil, pyerr.New("TypeError", b.Name(), "%s object is not iterable", pyerr.TypeRepr(src))
			}
			defer it.Done()
			var x starlark.Value
			for it.Next(&x) {
				vals = append(vals, x)
			}
			if len(vals) != len(t.fields) {
				return nil, pyerr.New("TypeError", b.Name(), "Expected %d arguments, got %d", len(t.fields), len(vals))
			}
			return &Record{typ: t, values: vals}, nil
		}), nil
	}
	return nil, nil
}

func (t *RecordType) fieldTuple() starlark.Tuple {
	names := make(starlark.Tuple, len(t.fields))
	for i, f := range t.fields {
		names[i] = starlark.String(f)
	}
	return names
}

// CallInternal makes a record from positional and keyword arguments, with
// Python's messages for the ways that can go wrong.
func (t *RecordType) CallInternal(_ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	op := t.name + ".__new__()"
	if len(args) > len(t.fields) {
		return nil, pyerr.New("TypeError", "", "%s takes %d positional arguments but %d were given", op, len(t.fields)+1, len(args)+1)
	}
	vals := make(starlark.Tuple, len(t.fields))
	copy(vals, args)
	for _, kv := range kwargs {
		name := string(kv[0].(starlark.String))
		i := indexOf(t.fields, name)
		switch {
		case i < 0:
			return nil, pyerr.New("TypeError", "", "%s got an unexpected keyword argument %s", op, pyerr.Repr(name))
		case vals[i] != nil:
			return nil, pyerr.New("TypeError", "", "%s got multiple values for argument %s", op, pyerr.Repr(name))
		}
		vals[i] = kv[1]
	}
	off := len(t.fields) - len(t.defaults)
	var missing []string
	for i := range vals {
		if vals[i] == nil {
			if i >= off {
				vals[i] = t.defaults[i-off]
			} else {
				missing = append(missing, pyerr.Repr(t.fields[i]))
			}
		}
	}
	if len(missing) > 0 {
		return nil, pyerr.New("TypeError", "", "%s missing %d required positional argument%s: %s", op, len(missing),
			plural(len(missing)), joinAnd(missing))
	}
	return &Record{typ: t, values: vals}, nil
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// joinAnd is Python's list of names: 'a', 'b' and 'c'.
func joinAnd(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func (r *Record) String() string {
	parts := make([]string, len(r.values))
	for i, v := range r.values {
		parts[i] = r.typ.fields[i] + "=" + v.String()
	}
	return r.typ.name + "(" + strings.Join(parts, ", ") + ")"
}
func (r *Record) Type() string               { return r.typ.name }
func (r *Record) Freeze()                    { r.values.Freeze() }
func (r *Record) Truth() starlark.Bool       { return len(r.values) > 0 }
func (r *Record) Hash() (uint32, error)      { return r.values.Hash() }
func (r *Record) Len() int                   { return len(r.values) }
func (r *Record) Index(i int) starlark.Value { return r.values[i] }
func (r *Record) Iterate() starlark.Iterator { return r.values.Iterate() }
func (r *Record) Tuple() starlark.Tuple      { return r.values }
func (r *Record) RecordType() *RecordType    { return r.typ }
func (r *Record) AttrNames() []string {
	return append(append([]string(nil), r.typ.fields...), "_asdict", "_fields", "_replace")
}
func (r *Record) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	return starlark.CompareDepth(op, r.values, y.(*Record).values, depth)
}

func (r *Record) Attr(name string) (starlark.Value, error) {
	if i := indexOf(r.typ.fields, name); i >= 0 {
		return r.values[i], nil
	}
	switch name {
	case "_fields":
		return r.typ.fieldTuple(), nil
	case "_asdict":
		return starlark.NewBuiltin("_asdict", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			d := starlark.NewDict(len(r.values))
			for i, v := range r.values {
				d.SetKey(starlark.String(r.typ.fields[i]), v)
			}
			return d, nil
		}), nil
	case "_replace":
		return starlark.NewBuiltin("_replace", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if len(args) > 0 {
				return nil, pyerr.New("TypeError", b.Name(), "_replace() takes keyword arguments only")
			}
			vals := append(starlark.Tuple(nil), r.values...)
			for _, kv := range kwargs {
				name := string(kv[0].(starlark.String))
				i := indexOf(r.typ.fields, name)
				if i < 0 {
					return nil, pyerr.New("ValueError", b.Name(), "Got unexpected field names: [%s]", pyerr.Repr(name))
				}
				vals[i] = kv[1]
			}
			return &Record{typ: r.typ, values: vals}, nil
		}), nil
	}
	return nil, nil
}
