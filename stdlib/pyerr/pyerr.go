// Package pyerr is the error a stdlib builtin returns where Python would
// raise: it carries the Python exception name, so that the front end's
// try/except can match `except ValueError:` (or `except OSError:` for a
// FileNotFoundError) without parsing messages, and str(e) can be the
// message alone, as Python prints it.
package pyerr

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// Error is a Python exception raised by a builtin.
type Error struct {
	Kind string // Python exception name: "ValueError", "FileNotFoundError", ...
	Op   string // the builtin that raised it: "statistics.mean"
	Msg  string // str(e) in Python
	Err  error  // the Go error behind it, if any
}

func (e *Error) Error() string {
	if e.Op == "" {
		return e.Msg
	}
	return e.Op + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an Error of the given kind raised by op.
func New(kind, op, format string, args ...any) error {
	return &Error{Kind: kind, Op: op, Msg: fmt.Sprintf(format, args...)}
}

// KindOf is the Python exception name of err, or "" when err carries none.
func KindOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// Matches reports whether an exception of kind is caught by
// `except clause:`, following Python's hierarchy for the names stdlib
// raises.
func Matches(kind, clause string) bool {
	for k := kind; k != ""; k = parent(k) {
		if k == clause {
			return true
		}
	}
	return false
}

// parent is Python's base class of each exception stdlib raises.
func parent(kind string) string {
	switch kind {
	case "BaseException":
		return ""
	case "Exception", "SystemExit", "KeyboardInterrupt":
		return "BaseException"
	case "FileNotFoundError", "FileExistsError", "PermissionError",
		"IsADirectoryError", "NotADirectoryError":
		return "OSError"
	case "KeyError", "IndexError":
		return "LookupError"
	case "ZeroDivisionError", "OverflowError":
		return "ArithmeticError"
	case "StatisticsError", "JSONDecodeError", "UnicodeDecodeError":
		return "ValueError"
	case "UnsupportedOperation":
		return "OSError"
	}
	return "Exception"
}

// OS turns an error from the os package into Python's OSError for op:
// "[Errno 2] No such file or directory: 'x'", of kind FileNotFoundError.
func OS(op string, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return &Error{Kind: "OSError", Op: op, Msg: err.Error(), Err: err}
	}
	msg := fmt.Sprintf("[Errno %d] %s", int(errno), capitalize(errno.Error()))
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		msg += ": " + Repr(pe.Path)
	case errors.As(err, &le):
		msg += ": " + Repr(le.Old) + " -> " + Repr(le.New)
	}
	return &Error{Kind: osKind(errno), Op: op, Msg: msg, Err: err}
}

func osKind(errno syscall.Errno) string {
	switch errno {
	case syscall.ENOENT:
		return "FileNotFoundError"
	case syscall.EEXIST:
		return "FileExistsError"
	case syscall.EACCES, syscall.EPERM:
		return "PermissionError"
	case syscall.EISDIR:
		return "IsADirectoryError"
	case syscall.ENOTDIR:
		return "NotADirectoryError"
	}
	return "OSError"
}

// capitalize makes Go's errno text C's strerror: "no such file or
// directory" -> "No such file or directory".
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Repr is Python's repr of a str, as Python's messages quote names:
// single quotes unless the text holds one and no double quote.
func Repr(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteByte(q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// TypeName is the Python name of v's type, for messages: Starlark's
// "string" is Python's "str".
func TypeName(v interface{ Type() string }) string {
	if t := v.Type(); t != "string" {
		return t
	}
	return "str"
}

// TypeRepr is TypeName quoted as Python quotes it: 'str'.
func TypeRepr(v interface{ Type() string }) string { return Repr(TypeName(v)) }
