package builtins

import (
	"fmt"
	"hash/fnv"
	"net/url"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// File is Parsl's File: a local path or URL an app reads or writes.
type File struct {
	url    string
	scheme string
	netloc string
	path   string // the path part of the URL, or the path as given
}

var (
	_ starlark.HasAttrs   = (*File)(nil)
	_ starlark.Comparable = (*File)(nil)
)

// NewFile parses a Parsl file URL: "file:///abs/path", "rel/path",
// "https://host/x".
func NewFile(raw string) (*File, error) {
	if raw == "" {
		return nil, fmt.Errorf("File: empty path")
	}
	f := &File{url: raw, scheme: "file", path: raw}
	if i := strings.Index(raw, "://"); i > 0 {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("File: %q is not a valid URL: %w", raw, err)
		}
		f.scheme, f.netloc, f.path = u.Scheme, u.Host, u.Path
	}
	return f, nil
}

func newFileBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var u string
	if err := unpackArgs(b.Name(), args, kwargs, "url", &u); err != nil {
		return nil, err
	}
	return NewFile(u)
}

// Filepath is where the file is on this machine (Parsl's File.filepath).
func (f *File) Filepath() string { return f.path }

func (f *File) String() string       { return f.path }
func (f *File) Type() string         { return "File" }
func (f *File) Freeze()              {}
func (f *File) Truth() starlark.Bool { return true }
func (f *File) Hash() (uint32, error) {
	h := fnv.New32a()
	h.Write([]byte(f.url))
	return h.Sum32(), nil
}

func (f *File) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	g := y.(*File)
	switch op {
	case syntax.EQL:
		return f.url == g.url, nil
	case syntax.NEQ:
		return f.url != g.url, nil
	}
	return false, fmt.Errorf("%s not supported for File", op)
}

func (f *File) AttrNames() []string {
	return []string{"filename", "filepath", "local_path", "netloc", "path", "scheme", "url"}
}

func (f *File) Attr(name string) (starlark.Value, error) {
	switch name {
	case "url":
		return starlark.String(f.url), nil
	case "scheme":
		return starlark.String(f.scheme), nil
	case "netloc":
		return starlark.String(f.netloc), nil
	case "path", "filepath":
		return starlark.String(f.path), nil
	case "local_path":
		if f.scheme != "file" {
			return starlark.None, nil
		}
		return starlark.String(f.path), nil
	case "filename":
		return starlark.String(filepath.Base(f.path)), nil
	}
	return nil, nil
}
