package files

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"unicode/utf8"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// File is an open file, as Python's open() returns it.
type File struct {
	mu       sync.Mutex
	name     string
	mode     string
	binary   bool
	newline  starlark.Value // None, or the str given as newline=
	readable bool
	writable bool
	f        *os.File
	r        *bufio.Reader // reads go through it; nil until the first read
	closed   bool
}

var (
	_ starlark.HasAttrs = (*File)(nil)
	_ starlark.Iterable = (*File)(nil)
)

// NewOpen returns the open builtin.
func NewOpen() *starlark.Builtin { return starlark.NewBuiltin("open", open) }

func open(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		path      PathArg
		mode                     = "r"
		buffering                = -1
		encoding  starlark.Value = starlark.None
		errs      starlark.Value = starlark.None
		newline   starlark.Value = starlark.None
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "file", &path, "mode?", &mode,
		"buffering?", &buffering, "encoding?", &encoding, "errors?", &errs, "newline?", &newline); err != nil {
		return nil, err
	}
	if err := checkEncoding(encoding); err != nil {
		return nil, err
	}
	switch newline {
	case starlark.None, starlark.String(""), starlark.String("\n"), starlark.String("\r"), starlark.String("\r\n"):
	default:
		return nil, pyerr.New("ValueError", "open", "illegal newline value: %s", newline)
	}
	return Open(string(path), mode, newline)
}

func checkEncoding(enc starlark.Value) error {
	if enc == starlark.None {
		return nil
	}
	s, ok := enc.(starlark.String)
	if !ok {
		return pyerr.New("TypeError", "open", "encoding must be str or None, not %s", enc.Type())
	}
	switch strings.ToLower(strings.ReplaceAll(string(s), "_", "-")) {
	case "utf-8", "utf8", "ascii", "us-ascii":
		return nil
	}
	return pyerr.New("LookupError", "open", "encoding %s is not supported: starflow text files are UTF-8", pyerr.Repr(string(s)))
}

// Open opens path in a Python mode ("r", "wb", "a+", ...). newline is
// open's newline argument (None for universal newlines).
func Open(path, mode string, newline starlark.Value) (*File, error) {
	flag, readable, writable, binary, err := parseMode(mode)
	if err != nil {
		return nil, err
	}
	if binary && newline != starlark.None {
		return nil, pyerr.New("ValueError", "open", "binary mode doesn't take a newline argument")
	}
	f, err := os.OpenFile(path, flag, 0o666)
	if err != nil {
		return nil, pyerr.OS("open", err)
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		// os.Open reads a directory happily; Python refuses to.
		f.Close()
		return nil, pyerr.OS("open", &os.PathError{Op: "open", Path: path, Err: syscall.EISDIR})
	}
	return &File{name: path, mode: mode, binary: binary, newline: newline,
		readable: readable, writable: writable, f: f}, nil
}

// parseMode checks mode the way Python does: exactly one of r, w, a, x,
// at most one +, and b or t but not both.
func parseMode(mode string) (flag int, readable, writable, binary bool, err error) {
	var kind byte
	plus, text := false, false
	for i := 0; i < len(mode); i++ {
		c := mode[i]
		switch {
		case strings.IndexByte("rwax", c) >= 0 && kind == 0:
			kind = c
		case c == '+' && !plus:
			plus = true
		case c == 'b' && !binary && !text:
			binary = true
		case c == 't' && !binary && !text:
			text = true
		default:
			return 0, false, false, false, pyerr.New("ValueError", "open", "invalid mode: %s", pyerr.Repr(mode))
		}
	}
	switch kind {
	case 'r':
		flag, readable = os.O_RDONLY, true
	case 'w':
		flag, writable = os.O_WRONLY|os.O_CREATE|os.O_TRUNC, true
	case 'a':
		flag, writable = os.O_WRONLY|os.O_CREATE|os.O_APPEND, true
	case 'x':
		flag, writable = os.O_WRONLY|os.O_CREATE|os.O_EXCL, true
	default:
		return 0, false, false, false, pyerr.New("ValueError", "open", "Must have exactly one of create/read/write/append mode and at most one plus")
	}
	if plus {
		flag = flag&^(os.O_RDONLY|os.O_WRONLY) | os.O_RDWR
		readable, writable = true, true
	}
	return flag, readable, writable, binary, nil
}

func (f *File) String() string {
	if f.binary {
		kind := "BufferedReader"
		if f.writable {
			kind = "BufferedWriter"
			if f.readable {
				kind = "BufferedRandom"
			}
		}
		return "<_io." + kind + " name=" + pyerr.Repr(f.name) + ">"
	}
	return "<_io.TextIOWrapper name=" + pyerr.Repr(f.name) + " mode=" + pyerr.Repr(f.mode) + " encoding='UTF-8'>"
}
func (f *File) Type() string         { return "file" }
func (f *File) Truth() starlark.Bool { return true }
func (f *File) Hash() (uint32, error) {
	return starlark.String(f.name).Hash()
}

// Freeze does nothing: a file is a handle on the outside world, not a
// value, and stays usable after the module that opened it is frozen.
func (f *File) Freeze() {}

func (f *File) AttrNames() []string {
	return []string{"close", "closed", "encoding", "flush", "mode", "name", "read", "readable",
		"readline", "readlines", "seek", "tell", "writable", "write", "writelines"}
}

func (f *File) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(f.name), nil
	case "mode":
		return starlark.String(f.mode), nil
	case "closed":
		f.mu.Lock()
		defer f.mu.Unlock()
		return starlark.Bool(f.closed), nil
	case "encoding":
		if f.binary {
			return nil, nil
		}
		return starlark.String("UTF-8"), nil
	}
	if m := fileMethod(name); m != nil {
		return starlark.NewBuiltin(name, m).BindReceiver(f), nil
	}
	return nil, nil
}

// Close closes the file; closing twice is allowed, as in Python.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	if err := f.f.Close(); err != nil {
		return pyerr.OS("close", err)
	}
	return nil
}

// usable is the check every operation makes first.
func (f *File) usable(op string, wantRead, wantWrite bool) error {
	switch {
	case f.closed:
		return pyerr.New("ValueError", op, "I/O operation on closed file.")
	case wantRead && !f.readable:
		return pyerr.New("UnsupportedOperation", op, "not readable")
	case wantWrite && !f.writable:
		return pyerr.New("UnsupportedOperation", op, "not writable")
	}
	return nil
}

// reader is the buffered reader, created on the first read.
func (f *File) reader() *bufio.Reader {
	if f.r == nil {
		f.r = bufio.NewReader(f.f)
	}
	return f.r
}

// dropReadAhead moves the OS position back over what the reader buffered
// but the script has not read, before a write or seek in a "+" mode.
func (f *File) dropReadAhead() error {
	if f.r == nil || f.r.Buffered() == 0 {
		return nil
	}
	if _, err := f.f.Seek(int64(-f.r.Buffered()), io.SeekCurrent); err != nil {
		return err
	}
	f.r.Reset(f.f)
	return nil
}

// WriteText writes s to a text file or its bytes to a binary one; print
// and json.dump use it.
func (f *File) WriteText(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable("write", false, true); err != nil {
		return err
	}
	return f.writeLocked(s)
}

func (f *File) writeLocked(s string) error {
	if err := f.dropReadAhead(); err != nil {
		return pyerr.OS("write", err)
	}
	if !f.binary {
		if nl, ok := f.newline.(starlark.String); ok && nl != "" && nl != "\n" {
			s = strings.ReplaceAll(s, "\n", string(nl))
		}
	}
	if _, err := io.WriteString(f.f, s); err != nil {
		return pyerr.OS("write", err)
	}
	return nil
}

// ReadText reads the rest of the file; json.load uses it.
func (f *File) ReadText() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable("read", true, false); err != nil {
		return "", err
	}
	data, err := io.ReadAll(f.reader())
	if err != nil {
		return "", pyerr.OS("read", err)
	}
	return f.translate(string(data)), nil
}

// translate applies universal newlines to text read in text mode.
func (f *File) translate(s string) string {
	if f.binary || f.newline != starlark.None || strings.IndexByte(s, '\r') < 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// value is s as the file's kind of string: bytes in binary mode.
func (f *File) value(s string) starlark.Value {
	if f.binary {
		return starlark.Bytes(s)
	}
	return starlark.String(s)
}

// readLine reads one line, at most limit characters when limit >= 0.
func (f *File) readLine(limit int) (string, error) {
	r := f.reader()
	if limit < 0 {
		line, err := r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", pyerr.OS("readline", err)
		}
		if strings.HasSuffix(line, "\r\n") && !f.binary && f.newline == starlark.None {
			line = line[:len(line)-2] + "\n"
		}
		return line, nil
	}
	var b strings.Builder
	for n := 0; n < limit; n++ {
		c, err := f.readUnit(r)
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return "", pyerr.OS("readline", err)
		}
		b.WriteString(c)
		if c == "\n" {
			break
		}
	}
	return f.translate(b.String()), nil
}

// readUnit reads one character of a text file or one byte of a binary one.
func (f *File) readUnit(r *bufio.Reader) (string, error) {
	if f.binary {
		c, err := r.ReadByte()
		return string([]byte{c}), err
	}
	c, _, err := r.ReadRune()
	if err != nil {
		return "", err
	}
	return string(c), nil
}

// Iterate yields the remaining lines, as `for line in f` does.
func (f *File) Iterate() starlark.Iterator { return &lineIterator{f: f} }

type lineIterator struct{ f *File }

func (it *lineIterator) Next(p *starlark.Value) bool {
	it.f.mu.Lock()
	defer it.f.mu.Unlock()
	if it.f.usable("readline", true, false) != nil {
		return false
	}
	line, err := it.f.readLine(-1)
	if err != nil || line == "" {
		return false
	}
	*p = it.f.value(line)
	return true
}

func (it *lineIterator) Done() {}

// textArg is what write accepts: str in text mode, bytes in binary mode.
func (f *File) textArg(op string, v starlark.Value) (string, error) {
	switch v := v.(type) {
	case starlark.String:
		if !f.binary {
			return string(v), nil
		}
		return "", pyerr.New("TypeError", op, "a bytes-like object is required, not 'str'")
	case starlark.Bytes:
		if f.binary {
			return string(v), nil
		}
	}
	return "", pyerr.New("TypeError", op, "%s() argument must be str, not %s", op, v.Type())
}

// count is how much write reports: characters in text mode, bytes in
// binary mode.
func (f *File) count(s string) int {
	if f.binary {
		return len(s)
	}
	return utf8.RuneCountInString(s)
}
