// Package json is Python's json module for starflow scripts, writing
// exactly the text Python writes: ", " and ": " between items by default,
// "," and newlines with indent=, floats as Python's repr, non-ASCII as
// \uXXXX unless ensure_ascii=False, NaN and Infinity unless
// allow_nan=False. The Starlark json module's encode, decode, indent and
// encode_indent are here too.
//
//	json = module(dumps, dump, loads, load, encode, decode, indent, encode_indent)
//
//	def dumps(obj, *, skipkeys=False, ensure_ascii=True, check_circular=True,
//	          allow_nan=True, indent=None, separators=None, default=None, sort_keys=False):
//	def dump(obj, fp, **same as dumps):   # fp: a file from open() or anything with write()
//	def loads(s):                          # s: str or bytes
//	def load(fp):                          # fp: a file from open() or anything with read()
//
// dumps encodes dicts (and Counter, defaultdict, struct) as objects, lists,
// tuples and namedtuples as arrays; sets and other values go through
// default= or fail as in Python. loads makes ints of numbers without a
// fraction or exponent and floats of the rest, as Python does, but does
// not read NaN or Infinity. Not provided: cls=, object_hook= and the other
// decoder hooks, JSONEncoder and JSONDecoder.
package json

import (
	"strings"

	libjson "go.starlark.net/lib/json"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/starflow-hpc/starflow/stdlib/files"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// Module returns a fresh json module.
func Module() *starlarkstruct.Module {
	m := starlark.StringDict{
		"dumps": starlark.NewBuiltin("json.dumps", dumps),
		"dump":  starlark.NewBuiltin("json.dump", dump),
		"loads": starlark.NewBuiltin("json.loads", loads),
		"load":  starlark.NewBuiltin("json.load", load),
	}
	// "load" is a Starlark keyword: the front end spells json.load as
	// json.LOAD (interp.LoadAttr), so both names must work.
	m["LOAD"] = m["load"]
	for _, name := range []string{"encode", "decode", "indent", "encode_indent"} {
		m[name] = libjson.Module.Members[name]
	}
	return &starlarkstruct.Module{Name: "json", Members: m}
}

// newEncoder reads dumps' keyword arguments.
func newEncoder(thread *starlark.Thread, op string, kwargs []starlark.Tuple) (*encoder, error) {
	e := &encoder{thread: thread, op: op, ensureASCII: true, allowNaN: true, def: starlark.None}
	checkCircular := true
	var indent, separators, cls starlark.Value = starlark.None, starlark.None, starlark.None
	if err := starlark.UnpackArgs(op, nil, kwargs, "skipkeys?", &e.skipKeys, "ensure_ascii?", &e.ensureASCII,
		"check_circular?", &checkCircular, "allow_nan?", &e.allowNaN, "cls?", &cls, "indent?", &indent,
		"separators?", &separators, "default?", &e.def, "sort_keys?", &e.sortKeys); err != nil {
		return nil, err
	}
	if cls != starlark.None {
		return nil, pyerr.New("TypeError", op, "cls= is not supported")
	}
	e.itemSep, e.keySep = ", ", ": "
	switch in := indent.(type) {
	case starlark.NoneType:
	case starlark.Int:
		n, _ := in.Int64()
		e.indent, e.pretty, e.itemSep = strings.Repeat(" ", int(max(n, 0))), true, ","
	case starlark.String:
		e.indent, e.pretty, e.itemSep = string(in), true, ","
	default:
		return nil, pyerr.New("TypeError", op, "indent: got %s, want int, str or None", indent.Type())
	}
	if separators != starlark.None {
		seps, ok := separators.(starlark.Indexable)
		if !ok || seps.Len() != 2 {
			return nil, pyerr.New("TypeError", op, "separators: want an (item_separator, key_separator) tuple")
		}
		item, ok1 := seps.Index(0).(starlark.String)
		key, ok2 := seps.Index(1).(starlark.String)
		if !ok1 || !ok2 {
			return nil, pyerr.New("TypeError", op, "separators: want two strings")
		}
		e.itemSep, e.keySep = string(item), string(key)
	}
	return e, nil
}

func dumps(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var obj starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, nil, 1, &obj); err != nil {
		return nil, err
	}
	s, err := Dumps(thread, b.Name(), obj, kwargs)
	if err != nil {
		return nil, err
	}
	return starlark.String(s), nil
}

// Dumps is json.dumps(obj, **kwargs) for Go callers.
func Dumps(thread *starlark.Thread, op string, obj starlark.Value, kwargs []starlark.Tuple) (string, error) {
	e, err := newEncoder(thread, op, kwargs)
	if err != nil {
		return "", err
	}
	if err := e.encode(obj, 0); err != nil {
		return "", err
	}
	return e.buf.String(), nil
}

func dump(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var obj, fp starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, nil, 2, &obj, &fp); err != nil {
		return nil, err
	}
	s, err := Dumps(thread, b.Name(), obj, kwargs)
	if err != nil {
		return nil, err
	}
	return starlark.None, files.Write(thread, fp, s)
}

func loads(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
		return nil, err
	}
	return decode(thread, b.Name(), s)
}

func load(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fp starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &fp); err != nil {
		return nil, err
	}
	s, err := files.Read(thread, fp)
	if err != nil {
		return nil, err
	}
	return decode(thread, b.Name(), s)
}

// decode parses JSON text with Starlark's decoder, whose choices (ints
// for integral numbers, dicts in document order) are Python's.
func decode(thread *starlark.Thread, op string, s starlark.Value) (starlark.Value, error) {
	var text string
	switch s := s.(type) {
	case starlark.String:
		text = string(s)
	case starlark.Bytes:
		text = strings.TrimPrefix(string(s), "\ufeff")
	default:
		return nil, pyerr.New("TypeError", op, "the JSON object must be str or bytes, not %s", s.Type())
	}
	v, err := starlark.Call(thread, libjson.Module.Members["decode"], starlark.Tuple{starlark.String(text)}, nil)
	if err != nil {
		msg := err.Error()
		if ev, ok := err.(*starlark.EvalError); ok {
			msg = ev.Msg
		}
		return nil, pyerr.New("JSONDecodeError", op, "%s", strings.TrimPrefix(msg, "json.decode: "))
	}
	return v, nil
}
