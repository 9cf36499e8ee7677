// Package files implements Python's file objects for starflow scripts: what
// open() returns (type "file"), and the sys.stdout / sys.stderr streams.
// print(file=), json.dump and json.load use either through their write and
// read methods, as Python does, so any value with those methods works too.
//
//	def open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None):
//
// file is a str or a path-like value (one with a str filepath attribute,
// such as Parsl's File). mode is Python's: one of r, w, a, x, optionally
// with + and b or t. Text files are UTF-8; reading with newline=None turns
// "\r\n" into "\n".
//
// A file has read(size=-1), readline(size=-1), readlines(hint=-1),
// write(s), writelines(lines), flush(), seek(offset, whence=0), tell(),
// readable(), writable(), close(), and the attributes name, mode, closed
// and encoding; iterating it yields its remaining lines. Writes are not
// buffered, so a file a script forgets to close loses nothing.
package files

import (
	"fmt"

	"go.starlark.net/starlark"
)

// PathArg is a path argument: a str, or a path-like value, the way
// Python's os.fspath accepts a Parsl File. It implements
// starlark.Unpacker.
type PathArg string

func (p *PathArg) Unpack(v starlark.Value) error {
	s, err := Path(v)
	if err != nil {
		return err
	}
	*p = PathArg(s)
	return nil
}

// Path is the file system path that v denotes.
func Path(v starlark.Value) (string, error) {
	switch v := v.(type) {
	case starlark.String:
		return string(v), nil
	case starlark.HasAttrs:
		// Parsl's File (and anything shaped like it) is path-like through
		// its filepath attribute, as File.__fspath__ is in Python.
		if fp, err := v.Attr("filepath"); err == nil && fp != nil {
			if s, ok := fp.(starlark.String); ok {
				return string(s), nil
			}
		}
	}
	return "", fmt.Errorf("got %s, want str or path-like object", v.Type())
}
