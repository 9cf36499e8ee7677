// Package glob is Python's glob module (and its fnmatch), for starflow
// scripts.
//
//	glob = module(glob, iglob, escape, has_magic)
//
//	def glob(pathname, *, root_dir=None, recursive=False, include_hidden=False):
//
// glob follows Python's glob.py: "*", "?" and "[...]" match within one
// path component, names starting with "." match only a pattern that
// starts with "." (or include_hidden=True), and with recursive=True "**"
// matches any files and zero or more directories. Unlike Python, whose
// order is the directory's, the result is sorted. iglob is glob (a list).
//
//	fnmatch = module(fnmatch, fnmatchcase, filter, translate)
package glob

import (
	"os"
	"regexp"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/starflow-hpc/starflow/stdlib/files"
	pyos "github.com/starflow-hpc/starflow/stdlib/os"
)

// Module returns a fresh glob module.
func Module() *starlarkstruct.Module {
	return &starlarkstruct.Module{
		Name: "glob",
		Members: starlark.StringDict{
			"glob":      starlark.NewBuiltin("glob.glob", globBuiltin),
			"iglob":     starlark.NewBuiltin("glob.iglob", globBuiltin),
			"escape":    starlark.NewBuiltin("glob.escape", escape),
			"has_magic": starlark.NewBuiltin("glob.has_magic", hasMagicBuiltin),
		},
	}
}

func globBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pathname files.PathArg
	var rootDir starlark.Value = starlark.None
	var dirFD starlark.Value = starlark.None
	recursive, includeHidden := false, false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pathname", &pathname, "root_dir?", &rootDir,
		"dir_fd?", &dirFD, "recursive?", &recursive, "include_hidden?", &includeHidden); err != nil {
		return nil, err
	}
	g := globber{recursive: recursive, includeHidden: includeHidden}
	if rootDir != starlark.None {
		root, err := files.Path(rootDir)
		if err != nil {
			return nil, err
		}
		g.root = root
	}
	matches := g.glob(string(pathname))
	out := make([]starlark.Value, len(matches))
	for i, m := range matches {
		out[i] = starlark.String(m)
	}
	return starlark.NewList(out), nil
}

// glob returns the sorted paths that match pattern.
func (g globber) glob(pattern string) []string {
	var out []string
	g.iglob(pattern, false, func(p string) { out = append(out, p) })
	sort.Strings(out)
	return out
}

type globber struct {
	root          string // root_dir, or "" for the working directory
	recursive     bool
	includeHidden bool
}

// at is where a path of the pattern is on disk.
func (g globber) at(p string) string {
	if g.root == "" {
		return p
	}
	return pyos.Join(g.root, p)
}

// iglob is glob.py's _iglob: match the directory part first, then the
// last component within each directory found.
func (g globber) iglob(pathname string, dironly bool, yield func(string)) {
	dirname, basename := pyos.Split(pathname)
	if !hasMagic(pathname) {
		if basename != "" {
			if _, err := os.Lstat(g.at(pathname)); err == nil {
				yield(pathname)
			}
		} else if isDir(g.at(dirname)) {
			yield(pathname) // a pattern ending in "/" matches directories only
		}
		return
	}
	if dirname == "" {
		g.inDir("", basename, dironly, func(name string) { yield(name) })
		return
	}
	var dirs []string
	if dirname != pathname && hasMagic(dirname) {
		g.iglob(dirname, true, func(d string) { dirs = append(dirs, d) })
	} else {
		dirs = []string{dirname}
	}
	for _, d := range dirs {
		g.inDir(d, basename, dironly, func(name string) { yield(pyos.Join(d, name)) })
	}
}

// inDir yields the names in dir that basename matches.
func (g globber) inDir(dir, basename string, dironly bool, yield func(string)) {
	switch {
	case !hasMagic(basename):
		if basename != "" {
			if _, err := os.Lstat(g.at(pyos.Join(dir, basename))); err == nil {
				yield(basename)
			}
		} else if isDir(g.at(dir)) {
			yield(basename)
		}
	case g.recursive && basename == "**":
		yield("")
		g.rlistdir(dir, dironly, yield)
	default:
		re := compile(basename)
		for _, name := range g.listdir(dir, dironly) {
			if (g.includeHidden || !hidden(name) || hidden(basename)) && re.MatchString(name) {
				yield(name)
			}
		}
	}
}

// rlistdir yields every name below dir, recursively, as relative paths.
func (g globber) rlistdir(dir string, dironly bool, yield func(string)) {
	for _, name := range g.listdir(dir, dironly) {
		if !g.includeHidden && hidden(name) {
			continue
		}
		yield(name)
		path := name
		if dir != "" {
			path = pyos.Join(dir, name)
		}
		g.rlistdir(path, dironly, func(sub string) { yield(pyos.Join(name, sub)) })
	}
}

// listdir lists dir's names (only directories when dironly); a directory
// that cannot be read lists nothing, as in Python.
func (g globber) listdir(dir string, dironly bool) []string {
	d := g.at(dir)
	if d == "" {
		d = "."
	}
	entries, err := os.ReadDir(d)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if dironly && !e.IsDir() && !(e.Type()&os.ModeSymlink != 0 && isDir(pyos.Join(d, e.Name()))) {
			continue
		}
		names = append(names, e.Name())
	}
	return names
}

func isDir(p string) bool {
	if p == "" {
		p = "."
	}
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") }

func hasMagic(s string) bool { return strings.ContainsAny(s, "*?[") }

func hasMagicBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
		return nil, err
	}
	return starlark.Bool(hasMagic(s)), nil
}

func escape(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
		return nil, err
	}
	var sb strings.Builder
	for _, r := range s {
		if r == '*' || r == '?' || r == '[' {
			sb.WriteString("[" + string(r) + "]")
		} else {
			sb.WriteRune(r)
		}
	}
	return starlark.String(sb.String()), nil
}

// compile turns a shell pattern into a regexp that must match the whole
// name, or one that matches nothing if the pattern makes no sense.
func compile(pattern string) *regexp.Regexp {
	re, err := regexp.Compile(Translate(pattern))
	if err != nil {
		return regexp.MustCompile(`\A\z.`)
	}
	return re
}

// Translate is fnmatch.translate: a shell pattern as an anchored regexp.
// In a pattern, "\" is an ordinary character, as it is in Python on POSIX.
func Translate(pat string) string {
	var b strings.Builder
	b.WriteString(`(?s:`)
	for i := 0; i < len(pat); {
		c := pat[i]
		i++
		switch c {
		case '*':
			for i < len(pat) && pat[i] == '*' {
				i++
			}
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := i
			if j < len(pat) && pat[j] == '!' {
				j++
			}
			if j < len(pat) && pat[j] == ']' {
				j++
			}
			for j < len(pat) && pat[j] != ']' {
				j++
			}
			if j >= len(pat) {
				b.WriteString(`\[`)
				continue
			}
			b.WriteString(class(pat[i:j]))
			i = j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`)\z`)
	return `\A` + b.String()
}

// class is the regexp of a bracket expression's inside: "!" negates, and
// every character but "-" means itself.
func class(stuff string) string {
	if stuff == "" {
		return `[^\x00-\x{10FFFF}]`
	}
	if stuff == "!" {
		return `.`
	}
	var b strings.Builder
	b.WriteByte('[')
	if stuff[0] == '!' {
		b.WriteByte('^')
		stuff = stuff[1:]
	}
	for _, r := range stuff {
		switch r {
		case '\\', '[', ']', '^', '&', '~', '|':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte(']')
	return b.String()
}
