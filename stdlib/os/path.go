package os

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/starflow-hpc/starflow/stdlib/files"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// PathModule returns a fresh os.path module. environ is os.environ, where
// expanduser and expandvars look names up.
//
//	def join(a, *p):   def split(p):    def splitext(p):
//	def basename(p):   def dirname(p):  def normpath(p):
//	def abspath(p):    def realpath(p): def relpath(path, start=None):
//	def exists(p):     def lexists(p):  def isfile(p):  def isdir(p):
//	def islink(p):     def isabs(p):    def getsize(p): def getmtime(p):
//	def expanduser(p): def expandvars(p): def commonprefix(list):
//
// Each follows Python's posixpath, string for string: join("a", "/b") is
// "/b", splitext(".bashrc") is (".bashrc", ""), dirname("a/") is "a".
func PathModule(environ *starlark.Dict) *starlarkstruct.Module {
	str1 := func(name string, fn func(string) string) *starlark.Builtin {
		return starlark.NewBuiltin("os.path."+name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var p files.PathArg
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
				return nil, err
			}
			return starlark.String(fn(string(p))), nil
		})
	}
	test := func(name string, fn func(string) bool) *starlark.Builtin {
		return starlark.NewBuiltin("os.path."+name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var p files.PathArg
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
				return nil, err
			}
			return starlark.Bool(fn(string(p))), nil
		})
	}
	lookup := func(key string) (string, bool) {
		v, found, _ := environ.Get(starlark.String(key))
		s, ok := v.(starlark.String)
		return string(s), found && ok
	}
	return &starlarkstruct.Module{
		Name: "os.path",
		Members: starlark.StringDict{
			"join":         starlark.NewBuiltin("os.path.join", pathJoin),
			"split":        starlark.NewBuiltin("os.path.split", pathSplit),
			"splitext":     starlark.NewBuiltin("os.path.splitext", pathSplitext),
			"basename":     str1("basename", func(p string) string { _, tail := split(p); return tail }),
			"dirname":      str1("dirname", func(p string) string { head, _ := split(p); return head }),
			"normpath":     str1("normpath", normpath),
			"abspath":      str1("abspath", abspath),
			"realpath":     str1("realpath", realpath),
			"relpath":      starlark.NewBuiltin("os.path.relpath", relpath),
			"expanduser":   str1("expanduser", func(p string) string { return expanduser(p, lookup) }),
			"expandvars":   str1("expandvars", func(p string) string { return expandvars(p, lookup) }),
			"exists":       test("exists", func(p string) bool { _, err := os.Stat(p); return err == nil }),
			"lexists":      test("lexists", func(p string) bool { _, err := os.Lstat(p); return err == nil }),
			"isfile":       test("isfile", func(p string) bool { fi, err := os.Stat(p); return err == nil && fi.Mode().IsRegular() }),
			"isdir":        test("isdir", func(p string) bool { fi, err := os.Stat(p); return err == nil && fi.IsDir() }),
			"islink":       test("islink", isLink),
			"isabs":        test("isabs", func(p string) bool { return strings.HasPrefix(p, "/") }),
			"getsize":      starlark.NewBuiltin("os.path.getsize", stat(func(fi os.FileInfo) starlark.Value { return starlark.MakeInt64(fi.Size()) })),
			"getmtime":     starlark.NewBuiltin("os.path.getmtime", stat(func(fi os.FileInfo) starlark.Value { return starlark.Float(float64(fi.ModTime().UnixNano()) / 1e9) })),
			"commonprefix": starlark.NewBuiltin("os.path.commonprefix", commonprefix),
			"sep":          starlark.String("/"),
		},
	}
}

func stat(get func(os.FileInfo) starlark.Value) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var p files.PathArg
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
			return nil, err
		}
		fi, err := os.Stat(string(p))
		if err != nil {
			return nil, pyerr.OS(b.Name(), err)
		}
		return get(fi), nil
	}
}

func pathJoin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, pyerr.New("TypeError", b.Name(), "unexpected keyword argument")
	}
	if len(args) == 0 {
		return nil, pyerr.New("TypeError", b.Name(), "missing 1 required positional argument: 'a'")
	}
	parts := make([]string, len(args))
	for i, a := range args {
		p, err := files.Path(a)
		if err != nil {
			return nil, pyerr.New("TypeError", b.Name(), "argument %d: %v", i+1, err)
		}
		parts[i] = p
	}
	return starlark.String(join(parts[0], parts[1:]...)), nil
}

// join is posixpath.join: an absolute component discards what came
// before it.
func join(a string, p ...string) string {
	path := a
	for _, b := range p {
		switch {
		case strings.HasPrefix(b, "/"):
			path = b
		case path == "" || strings.HasSuffix(path, "/"):
			path += b
		default:
			path += "/" + b
		}
	}
	return path
}

// split is posixpath.split: trailing slashes of the head go, unless the
// head is all slashes.
func split(p string) (head, tail string) {
	i := strings.LastIndexByte(p, '/') + 1
	head, tail = p[:i], p[i:]
	if head != "" && strings.Trim(head, "/") != "" {
		head = strings.TrimRight(head, "/")
	}
	return head, tail
}

func pathSplit(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p files.PathArg
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
		return nil, err
	}
	head, tail := split(string(p))
	return starlark.Tuple{starlark.String(head), starlark.String(tail)}, nil
}

// splitext is genericpath._splitext: the extension starts at the last dot
// of the last component, unless that component is all leading dots.
func splitext(p string) (root, ext string) {
	sep := strings.LastIndexByte(p, '/')
	dot := strings.LastIndexByte(p, '.')
	if dot > sep {
		for i := sep + 1; i < dot; i++ {
			if p[i] != '.' {
				return p[:dot], p[dot:]
			}
		}
	}
	return p, ""
}

func pathSplitext(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p files.PathArg
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
		return nil, err
	}
	root, ext := splitext(string(p))
	return starlark.Tuple{starlark.String(root), starlark.String(ext)}, nil
}

// normpath is posixpath.normpath, which keeps a leading "//" (POSIX lets
// it mean something else) and ".." that climb above a relative start.
func normpath(path string) string {
	if path == "" {
		return "."
	}
	initial := 0
	if strings.HasPrefix(path, "/") {
		initial = 1
		if strings.HasPrefix(path, "//") && !strings.HasPrefix(path, "///") {
			initial = 2
		}
	}
	var comps []string
	for _, c := range strings.Split(path, "/") {
		switch {
		case c == "" || c == ".":
		case c != ".." || initial == 0 && len(comps) == 0 || len(comps) > 0 && comps[len(comps)-1] == "..":
			comps = append(comps, c)
		case len(comps) > 0:
			comps = comps[:len(comps)-1]
		}
	}
	out := strings.Repeat("/", initial) + strings.Join(comps, "/")
	if out == "" {
		return "."
	}
	return out
}

func abspath(p string) string {
	if !strings.HasPrefix(p, "/") {
		if wd, err := os.Getwd(); err == nil {
			p = join(wd, p)
		}
	}
	return normpath(p)
}

func realpath(p string) string {
	abs := abspath(p)
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	return abs
}

func relpath(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path files.PathArg
	var start starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path, "start?", &start); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, pyerr.New("ValueError", b.Name(), "no path specified")
	}
	from := "."
	if start != starlark.None {
		s, err := files.Path(start)
		if err != nil {
			return nil, pyerr.New("TypeError", b.Name(), "start: %v", err)
		}
		from = s
	}
	fromParts := components(abspath(from))
	toParts := components(abspath(string(path)))
	i := 0
	for i < len(fromParts) && i < len(toParts) && fromParts[i] == toParts[i] {
		i++
	}
	var rel []string
	for range fromParts[i:] {
		rel = append(rel, "..")
	}
	rel = append(rel, toParts[i:]...)
	if len(rel) == 0 {
		return starlark.String("."), nil
	}
	return starlark.String(strings.Join(rel, "/")), nil
}

func components(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// expanduser replaces a leading "~" with $HOME and "~user" with that
// user's home directory; anything else is left as it was.
func expanduser(p string, lookup func(string) (string, bool)) string {
	if !strings.HasPrefix(p, "~") {
		return p
	}
	i := strings.IndexByte(p, '/')
	if i < 0 {
		i = len(p)
	}
	var home string
	if i == 1 {
		h, ok := lookup("HOME")
		if !ok {
			u, err := user.Current()
			if err != nil {
				return p
			}
			h = u.HomeDir
		}
		home = h
	} else {
		u, err := user.Lookup(p[1:i])
		if err != nil {
			return p
		}
		home = u.HomeDir
	}
	if home != "/" {
		home = strings.TrimRight(home, "/")
	}
	out := home + p[i:]
	if out == "" {
		return "/"
	}
	return out
}

// expandvars replaces $name and ${name} with environment values, leaving
// unknown names as written, as Python does.
func expandvars(p string, lookup func(string) (string, bool)) string {
	if !strings.Contains(p, "$") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); {
		if p[i] != '$' {
			b.WriteByte(p[i])
			i++
			continue
		}
		name, end := "", i+1
		if end < len(p) && p[end] == '{' {
			if j := strings.IndexByte(p[end:], '}'); j > 0 {
				name, end = p[end+1:end+j], end+j+1
			}
		} else {
			for end < len(p) && isNameByte(p[end]) {
				end++
			}
			name = p[i+1 : end]
		}
		if v, ok := lookup(name); ok && name != "" {
			b.WriteString(v)
		} else {
			b.WriteString(p[i:end])
		}
		i = end
	}
	return b.String()
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func commonprefix(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var list starlark.Iterable
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &list); err != nil {
		return nil, err
	}
	var strs []string
	it := list.Iterate()
	defer it.Done()
	var x starlark.Value
	for it.Next(&x) {
		s, err := files.Path(x)
		if err != nil {
			return nil, pyerr.New("TypeError", b.Name(), "%v", err)
		}
		strs = append(strs, s)
	}
	if len(strs) == 0 {
		return starlark.String(""), nil
	}
	prefix := strs[0]
	for _, s := range strs[1:] {
		n := 0
		for n < len(prefix) && n < len(s) && prefix[n] == s[n] {
			n++
		}
		prefix = prefix[:n]
	}
	return starlark.String(prefix), nil
}

// Join is os.path.join, for the glob module.
func Join(a string, p ...string) string { return join(a, p...) }

// Split is os.path.split, for the glob module.
func Split(p string) (head, tail string) { return split(p) }
