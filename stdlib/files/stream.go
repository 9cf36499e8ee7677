package files

import (
	"io"
	"sync"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// Stream is sys.stdout or sys.stderr: a write-only text file on one of
// the host's writers. Each write reaches the writer in one Write call, so
// lines printed by concurrent apps do not interleave.
type Stream struct {
	name string // "<stdout>"
	mu   *sync.Mutex
	w    io.Writer
}

var _ starlark.HasAttrs = (*Stream)(nil)

// NewStream returns a stream called name ("<stdout>") writing to w.
// Streams made with the same mu serialize their writes.
func NewStream(name string, w io.Writer, mu *sync.Mutex) *Stream {
	if mu == nil {
		mu = new(sync.Mutex)
	}
	return &Stream{name: name, w: w, mu: mu}
}

func (s *Stream) String() string {
	return "<_io.TextIOWrapper name=" + pyerr.Repr(s.name) + " mode='w' encoding='utf-8'>"
}
func (s *Stream) Type() string          { return "file" }
func (s *Stream) Freeze()               {}
func (s *Stream) Truth() starlark.Bool  { return true }
func (s *Stream) Hash() (uint32, error) { return starlark.String(s.name).Hash() }

// WriteText writes text to the stream.
func (s *Stream) WriteText(text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.w, text); err != nil {
		return pyerr.OS("write", err)
	}
	return nil
}

func (s *Stream) AttrNames() []string {
	return []string{"closed", "encoding", "flush", "mode", "name", "writable", "write", "writelines"}
}

func (s *Stream) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(s.name), nil
	case "mode":
		return starlark.String("w"), nil
	case "closed":
		return starlark.False, nil
	case "encoding":
		return starlark.String("utf-8"), nil
	case "write":
		return starlark.NewBuiltin(name, streamWrite).BindReceiver(s), nil
	case "writelines":
		return starlark.NewBuiltin(name, streamWritelines).BindReceiver(s), nil
	case "flush", "writable":
		return starlark.NewBuiltin(name, streamNoop).BindReceiver(s), nil
	}
	return nil, nil
}

func streamWrite(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var text string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &text); err != nil {
		return nil, err
	}
	if err := b.Receiver().(*Stream).WriteText(text); err != nil {
		return nil, err
	}
	return starlark.MakeInt(len([]rune(text))), nil
}

func streamWritelines(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var lines starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &lines); err != nil {
		return nil, err
	}
	text := ""
	it := pyiter.Iterate(lines)
	if it == nil {
		return nil, pyerr.New("TypeError", b.Name(), "%s object is not iterable", pyerr.TypeRepr(lines))
	}
	defer it.Done()
	var x starlark.Value
	for it.Next(&x) {
		s, ok := x.(starlark.String)
		if !ok {
			return nil, pyerr.New("TypeError", "writelines", "write() argument must be str, not %s", x.Type())
		}
		text += string(s)
	}
	return starlark.None, b.Receiver().(*Stream).WriteText(text)
}

func streamNoop(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	if b.Name() == "writable" {
		return starlark.True, nil
	}
	return starlark.None, nil
}

// textWriter is what Write writes to without a Starlark call.
type textWriter interface{ WriteText(string) error }

// Write writes text to a file object: directly for a File or Stream, else
// by calling its write method, as Python's print and json.dump do.
func Write(thread *starlark.Thread, file starlark.Value, text string) error {
	if w, ok := file.(textWriter); ok {
		return w.WriteText(text)
	}
	write, err := attrMethod(file, "write")
	if err != nil {
		return err
	}
	_, err = starlark.Call(thread, write, starlark.Tuple{starlark.String(text)}, nil)
	return err
}

// Read reads the rest of a file object: directly for a File, else by
// calling its read method. It returns str or bytes, as read does.
func Read(thread *starlark.Thread, file starlark.Value) (starlark.Value, error) {
	if f, ok := file.(*File); ok {
		s, err := f.ReadText()
		if err != nil {
			return nil, err
		}
		return f.value(s), nil
	}
	read, err := attrMethod(file, "read")
	if err != nil {
		return nil, err
	}
	return starlark.Call(thread, read, nil, nil)
}

func attrMethod(v starlark.Value, name string) (starlark.Value, error) {
	if ha, ok := v.(starlark.HasAttrs); ok {
		m, err := ha.Attr(name)
		if err != nil {
			return nil, err
		}
		if m != nil {
			return m, nil
		}
	}
	return nil, pyerr.New("AttributeError", "", "%s object has no attribute %s", pyerr.TypeRepr(v), pyerr.Repr(name))
}
