package pyerr

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"
)

func TestRepr(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"abc", "'abc'"},
		{"it's", `"it's"`},
		{`both ' and "`, `'both \' and "'`},
		{"tab\tnl\n", `'tab\tnl\n'`},
		{"\x01é", `'\x01é'`},
		{`back\slash`, `'back\\slash'`},
	} {
		if got := Repr(tt.in); got != tt.want {
			t.Errorf("Repr(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestOS(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err        error
		kind, text string
	}{
		{&fs.PathError{Op: "open", Path: "x.txt", Err: syscall.ENOENT}, "FileNotFoundError", "open: [Errno 2] No such file or directory: 'x.txt'"},
		{&fs.PathError{Op: "mkdir", Path: "d", Err: syscall.EEXIST}, "FileExistsError", "open: [Errno 17] File exists: 'd'"},
		{&fs.PathError{Op: "open", Path: "p", Err: syscall.EACCES}, "PermissionError", "open: [Errno 13] Permission denied: 'p'"},
		{&os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.ENOENT}, "FileNotFoundError", "open: [Errno 2] No such file or directory: 'a' -> 'b'"},
		{&fs.PathError{Op: "rmdir", Path: "d", Err: syscall.ENOTEMPTY}, "OSError", "open: [Errno 39] Directory not empty: 'd'"},
		{errors.New("odd"), "OSError", "open: odd"},
	} {
		err := OS("open", tt.err)
		if got := KindOf(err); got != tt.kind {
			t.Errorf("KindOf(OS(%v)) = %q, want %q", tt.err, got, tt.kind)
		}
		if err.Error() != tt.text {
			t.Errorf("OS(%v) = %q, want %q", tt.err, err, tt.text)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("OS(%v) does not wrap it", tt.err)
		}
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		kind, clause string
		want         bool
	}{
		{"FileNotFoundError", "OSError", true},
		{"FileNotFoundError", "Exception", true},
		{"KeyError", "LookupError", true},
		{"StatisticsError", "ValueError", true},
		{"ZeroDivisionError", "ArithmeticError", true},
		{"ValueError", "TypeError", false},
		{"SystemExit", "Exception", false},
		{"SystemExit", "BaseException", true},
	} {
		if got := Matches(tt.kind, tt.clause); got != tt.want {
			t.Errorf("Matches(%s, %s) = %v, want %v", tt.kind, tt.clause, got, tt.want)
		}
	}
}

func TestKindThroughWrapping(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("outer: %w", New("ValueError", "f", "bad %d", 1))
	if KindOf(err) != "ValueError" {
		t.Errorf("KindOf = %q", KindOf(err))
	}
	var e *Error
	if !errors.As(err, &e) || e.Msg != "bad 1" || e.Error() != "f: bad 1" {
		t.Errorf("unexpected %#v", e)
	}
}
