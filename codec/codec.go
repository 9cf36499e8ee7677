// Package codec is starflow's binary encoding of Starlark values, in two
// modes that share one format. Marshal keeps a value exactly, dict and set
// order included, so results read back print as they did. AppendKey is
// canonical: equal values encode to equal bytes whatever their
// construction order (dict and set entries sorted by their encoding). Both
// keep apart what Starlark tells apart (1 vs 1.0, "a" vs b"a", (1,) vs
// [1]). Memo keys hash the canonical form, the memo store keeps results in
// the exact form, and remote executors send arguments and results in it.
package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"

	"go.starlark.net/starlark"
)

// Version is written first by Marshal; decoders refuse versions they do
// not know rather than misread them.
const Version = 1

// Tags of the encoding. Each value is a tag byte followed by its payload;
// lengths and small integers are unsigned varints.
const (
	tagNone      = 0x00
	tagFalse     = 0x01
	tagTrue      = 0x02
	tagInt       = 0x03 // zig-zag varint, for int64 range
	tagBigInt    = 0x04 // sign byte (0 +, 1 -), length, big-endian magnitude
	tagFloat     = 0x05 // 8 bytes, big-endian IEEE 754; NaN canonical
	tagString    = 0x06
	tagBytes     = 0x07
	tagList      = 0x08
	tagTuple     = 0x09
	tagDict      = 0x0a // entries sorted by encoded key
	tagSet       = 0x0b // elements sorted by encoding
	tagExtension = 0x0c // name, then the extension's payload
)

// maxDepth bounds nesting so a cyclic or absurdly deep value is an error,
// not a stack overflow.
const maxDepth = 512

// Extension lets a host type (a File, say) travel in the encoding. The
// type registers a name and two functions with an Extensions table.
type Extension struct {
	// Name identifies the type in the encoding; it must not change.
	Name string
	// Encode returns the value's canonical payload, or ok=false if v is
	// not of this type.
	Encode func(v starlark.Value) (payload []byte, ok bool)
	Decode func(payload []byte) (starlark.Value, error)
}

// Codec encodes and decodes values, knowing a set of extensions.
type Codec struct {
	exts   []Extension
	byName map[string]*Extension
}

// New returns a codec that knows the given extensions.
func New(exts ...Extension) *Codec {
	c := &Codec{exts: exts, byName: make(map[string]*Extension, len(exts))}
	for i := range c.exts {
		c.byName[c.exts[i].Name] = &c.exts[i]
	}
	return c
}

// UnsupportedError says which value cannot be encoded, and where in the
// argument it sits.
type UnsupportedError struct {
	Type string
	Path string // e.g. "[2]["key"]"; empty for the value itself
}

func (e *UnsupportedError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("a value of type %s cannot be stored or sent", e.Type)
	}
	return fmt.Sprintf("a value of type %s (at %s) cannot be stored or sent", e.Type, e.Path)
}

// AppendKey appends the canonical encoding of v (no version byte) to buf;
// memo keys are hashes of such encodings.
func (c *Codec) AppendKey(buf []byte, v starlark.Value) ([]byte, error) {
	e := encoder{c: c, canonical: true}
	return e.enc(buf, v, 0, "")
}

// Marshal returns the exact encoding of v, version byte first.
func (c *Codec) Marshal(v starlark.Value) ([]byte, error) {
	buf := make([]byte, 0, 32)
	buf = append(buf, Version)
	e := encoder{c: c}
	return e.enc(buf, v, 0, "")
}

type encoder struct {
	c         *Codec
	canonical bool
}

func (e encoder) enc(buf []byte, v starlark.Value, depth int, path string) ([]byte, error) {
	c := e.c
	if depth > maxDepth {
		return nil, fmt.Errorf("value nested more than %d deep (at %s); is it cyclic?", maxDepth, path)
	}
	switch x := v.(type) {
	case starlark.NoneType:
		return append(buf, tagNone), nil
	case starlark.Bool:
		if x {
			return append(buf, tagTrue), nil
		}
		return append(buf, tagFalse), nil
	case starlark.Int:
		if i, ok := x.Int64(); ok {
			buf = append(buf, tagInt)
			return binary.AppendVarint(buf, i), nil
		}
		b := x.BigInt()
		sign := byte(0)
		if b.Sign() < 0 {
			sign = 1
		}
		mag := new(big.Int).Abs(b).Bytes()
		buf = append(buf, tagBigInt, sign)
		buf = binary.AppendUvarint(buf, uint64(len(mag)))
		return append(buf, mag...), nil
	case starlark.Float:
		f := float64(x)
		bits := math.Float64bits(f)
		if math.IsNaN(f) {
			bits = 0x7ff8000000000001 // one NaN, whatever its payload
		}
		buf = append(buf, tagFloat)
		return binary.BigEndian.AppendUint64(buf, bits), nil
	case starlark.String:
		return appendBytes(append(buf, tagString), string(x)), nil
	case starlark.Bytes:
		return appendBytes(append(buf, tagBytes), string(x)), nil
	case *starlark.List:
		buf = append(buf, tagList)
		buf = binary.AppendUvarint(buf, uint64(x.Len()))
		for i := 0; i < x.Len(); i++ {
			var err error
			if buf, err = e.enc(buf, x.Index(i), depth+1, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return nil, err
			}
		}
		return buf, nil
	case starlark.Tuple:
		buf = append(buf, tagTuple)
		buf = binary.AppendUvarint(buf, uint64(len(x)))
		for i, elem := range x {
			var err error
			if buf, err = e.enc(buf, elem, depth+1, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return nil, err
			}
		}
		return buf, nil
	case *starlark.Dict:
		items := x.Items()
		encs := make([][]byte, len(items))
		for i, kv := range items {
			kb, err := e.enc(nil, kv[0], depth+1, path+"<key>")
			if err != nil {
				return nil, err
			}
			vb, err := e.enc(nil, kv[1], depth+1, fmt.Sprintf("%s[%s]", path, kv[0].String()))
			if err != nil {
				return nil, err
			}
			encs[i] = append(appendBytes(nil, string(kb)), vb...)
		}
		return e.appendEntries(append(buf, tagDict), encs), nil
	case *starlark.Set:
		encs := make([][]byte, 0, x.Len())
		iter := x.Iterate()
		defer iter.Done()
		var elem starlark.Value
		for iter.Next(&elem) {
			eb, err := e.enc(nil, elem, depth+1, path+"<set element>")
			if err != nil {
				return nil, err
			}
			encs = append(encs, eb)
		}
		return e.appendEntries(append(buf, tagSet), encs), nil
	}
	for i := range c.exts {
		if payload, ok := c.exts[i].Encode(v); ok {
			buf = appendBytes(append(buf, tagExtension), c.exts[i].Name)
			return appendBytes(buf, string(payload)), nil
		}
	}
	return nil, &UnsupportedError{Type: v.Type(), Path: path}
}

func appendBytes(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// appendEntries writes a count and the entries: in byte order when
// canonical, which is what makes dicts and sets equal whatever their
// insertion order, else in the value's own order.
func (e encoder) appendEntries(buf []byte, encs [][]byte) []byte {
	if e.canonical {
		sort.Slice(encs, func(i, j int) bool { return bytes.Compare(encs[i], encs[j]) < 0 })
	}
	buf = binary.AppendUvarint(buf, uint64(len(encs)))
	for _, e := range encs {
		buf = append(buf, e...)
	}
	return buf
}

// ErrCorrupt is wrapped by every decoding error.
var ErrCorrupt = errors.New("corrupt encoding")

// Unmarshal decodes what Marshal produced. The result is frozen.
func (c *Codec) Unmarshal(data []byte) (starlark.Value, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrCorrupt)
	}
	if data[0] != Version {
		return nil, fmt.Errorf("encoding version %d, this starflow reads version %d", data[0], Version)
	}
	d := decoder{c: c, data: data[1:]}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if len(d.data) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.data))
	}
	v.Freeze()
	return v, nil
}

type decoder struct {
	c    *Codec
	data []byte
}

func (d *decoder) fail(what string) error { return fmt.Errorf("%w: %s", ErrCorrupt, what) }

func (d *decoder) uvarint() (uint64, error) {
	n, k := binary.Uvarint(d.data)
	if k <= 0 {
		return 0, d.fail("bad length")
	}
	d.data = d.data[k:]
	return n, nil
}

func (d *decoder) bytes() ([]byte, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.data)) {
		return nil, d.fail("length past end")
	}
	b := d.data[:n]
	d.data = d.data[n:]
	return b, nil
}

// count reads a container's element count, bounded by what is left: each
// element takes at least one byte, so a forged huge count cannot make us
// allocate.
func (d *decoder) count() (int, error) {
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(d.data)) {
		return 0, d.fail("count past end")
	}
	return int(n), nil
}

func (d *decoder) value(depth int) (starlark.Value, error) {
	if depth > maxDepth {
		return nil, d.fail("nested too deep")
	}
	if len(d.data) == 0 {
		return nil, d.fail("truncated")
	}
	tag := d.data[0]
	d.data = d.data[1:]
	switch tag {
	case tagNone:
		return starlark.None, nil
	case tagFalse:
		return starlark.False, nil
	case tagTrue:
		return starlark.True, nil
	case tagInt:
		i, k := binary.Varint(d.data)
		if k <= 0 {
			return nil, d.fail("bad int")
		}
		d.data = d.data[k:]
		return starlark.MakeInt64(i), nil
	case tagBigInt:
		if len(d.data) == 0 || d.data[0] > 1 {
			return nil, d.fail("bad big int sign")
		}
		neg := d.data[0] == 1
		d.data = d.data[1:]
		mag, err := d.bytes()
		if err != nil {
			return nil, err
		}
		b := new(big.Int).SetBytes(mag)
		if neg {
			b.Neg(b)
		}
		return starlark.MakeBigInt(b), nil
	case tagFloat:
		if len(d.data) < 8 {
			return nil, d.fail("truncated float")
		}
		f := math.Float64frombits(binary.BigEndian.Uint64(d.data))
		d.data = d.data[8:]
		return starlark.Float(f), nil
	case tagString:
		b, err := d.bytes()
		return starlark.String(b), err
	case tagBytes:
		b, err := d.bytes()
		return starlark.Bytes(b), err
	case tagList, tagTuple:
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		elems := make([]starlark.Value, n)
		for i := range elems {
			if elems[i], err = d.value(depth + 1); err != nil {
				return nil, err
			}
		}
		if tag == tagTuple {
			return starlark.Tuple(elems), nil
		}
		return starlark.NewList(elems), nil
	case tagDict:
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		dict := starlark.NewDict(n)
		for i := 0; i < n; i++ {
			kb, err := d.bytes()
			if err != nil {
				return nil, err
			}
			kd := decoder{c: d.c, data: kb}
			k, err := kd.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if len(kd.data) != 0 {
				return nil, d.fail("dict key has trailing bytes")
			}
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if err := dict.SetKey(k, v); err != nil {
				return nil, d.fail("dict key: " + err.Error())
			}
		}
		return dict, nil
	case tagSet:
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		set := new(starlark.Set)
		for i := 0; i < n; i++ {
			e, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if err := set.Insert(e); err != nil {
				return nil, d.fail("set element: " + err.Error())
			}
		}
		return set, nil
	case tagExtension:
		name, err := d.bytes()
		if err != nil {
			return nil, err
		}
		payload, err := d.bytes()
		if err != nil {
			return nil, err
		}
		ext, ok := d.c.byName[string(name)]
		if !ok {
			return nil, fmt.Errorf("%w: unknown value type %q", ErrCorrupt, name)
		}
		v, err := ext.Decode(payload)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
		}
		return v, nil
	}
	return nil, d.fail(fmt.Sprintf("unknown tag 0x%02x", tag))
}
