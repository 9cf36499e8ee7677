// Package os is Python's os module for starflow scripts, with os.path as
// its path member (also importable as "os.path"). Paths are str or
// path-like values (Parsl's File); failures are Python's OSErrors:
// "[Errno 2] No such file or directory: 'x'".
//
//	os = module(environ, getenv, getcwd, listdir, makedirs, mkdir, remove,
//	            unlink, rename, replace, rmdir, walk, cpu_count, getpid,
//	            sep, pathsep, linesep, curdir, pardir, name, path)
//
//	environ: dict, a snapshot of the environment when the module was made.
//	Changing it changes nothing outside the script.
//
//	def getenv(key, default=None):
//	def getcwd():
//	def listdir(path="."):           # sorted, unlike Python's arbitrary order
//	def makedirs(name, mode=0o777, exist_ok=False):
//	def mkdir(path, mode=0o777):
//	def remove(path): / def unlink(path):
//	def rename(src, dst): / def replace(src, dst):
//	def rmdir(path):
//	def walk(top, topdown=True, onerror=None, followlinks=False):
//
// walk yields (dirpath, dirnames, filenames) with both lists sorted; with
// topdown=True, removing names from dirnames prunes the walk, as in Python.
//
// Not provided: chdir (it would move every concurrent app), system and
// the process functions (use a bash_app).
package os

import (
	"os"
	"runtime"
	"sort"
	"strings"
	"syscall"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/starflow-hpc/starflow/stdlib/files"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// Module returns a fresh os module whose environ is a snapshot of env
// ("KEY=value" entries, as os.Environ returns them).
func Module(env []string) *starlarkstruct.Module {
	environ := starlark.NewDict(len(env))
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k != "" {
			environ.SetKey(starlark.String(k), starlark.String(v))
		}
	}
	b := func(name string, fn func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)) *starlark.Builtin {
		return starlark.NewBuiltin("os."+name, fn)
	}
	return &starlarkstruct.Module{
		Name: "os",
		Members: starlark.StringDict{
			"environ":   environ,
			"getenv":    b("getenv", getenv(environ)),
			"getcwd":    b("getcwd", getcwd),
			"listdir":   b("listdir", listdir),
			"makedirs":  b("makedirs", makedirs),
			"mkdir":     b("mkdir", mkdir),
			"remove":    b("remove", remove),
			"unlink":    b("unlink", remove),
			"rename":    b("rename", rename),
			"replace":   b("replace", rename),
			"rmdir":     b("rmdir", rmdir),
			"walk":      b("walk", walk),
			"cpu_count": b("cpu_count", cpuCount),
			"getpid":    b("getpid", getpid),
			"sep":       starlark.String("/"),
			"pathsep":   starlark.String(":"),
			"linesep":   starlark.String("\n"),
			"curdir":    starlark.String("."),
			"pardir":    starlark.String(".."),
			"name":      starlark.String("posix"),
			"path":      PathModule(environ),
		},
	}
}

func getenv(environ *starlark.Dict) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var key string
		var def starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key", &key, "default?", &def); err != nil {
			return nil, err
		}
		v, found, err := environ.Get(starlark.String(key))
		if err != nil || !found {
			return def, err
		}
		return v, nil
	}
}

func getcwd(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, pyerr.OS(b.Name(), err)
	}
	return starlark.String(wd), nil
}

func listdir(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	path := files.PathArg(".")
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path?", &path); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(string(path))
	if err != nil {
		return nil, pyerr.OS(b.Name(), err)
	}
	names := make([]starlark.Value, len(entries))
	for i, e := range entries {
		names[i] = starlark.String(e.Name())
	}
	return starlark.NewList(names), nil
}

func makedirs(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name files.PathArg
	mode := 0o777
	existOK := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "mode?", &mode, "exist_ok?", &existOK); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(string(name)); err == nil {
		// Python's makedirs accepts an existing directory only with
		// exist_ok, and never an existing file.
		if !existOK || !fi.IsDir() {
			return nil, pyerr.OS(b.Name(), &os.PathError{Op: "mkdir", Path: string(name), Err: syscall.EEXIST})
		}
		return starlark.None, nil
	}
	if err := os.MkdirAll(string(name), os.FileMode(mode)); err != nil {
		return nil, pyerr.OS(b.Name(), err)
	}
	return starlark.None, nil
}

func mkdir(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path files.PathArg
	mode := 0o777
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path, "mode?", &mode); err != nil {
		return nil, err
	}
	if err := os.Mkdir(string(path), os.FileMode(mode)); err != nil {
		return nil, pyerr.OS(b.Name(), err)
	}
	return starlark.None, nil
}

func remove(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path files.PathArg
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path); err != nil {
		return nil, err
	}
	// os.Remove would also remove an empty directory; Python's does not.
	if fi, err := os.Lstat(string(path)); err == nil && fi.IsDir() {
		return nil, pyerr.OS(b.Name(), &os.PathError{Op: "unlink", Path: string(path), Err: syscall.EISDIR})
	}
	if err := os.Remove(string(path)); err != nil {
		return nil, pyerr.OS(b.Name(), err)
	}
	return starlark.None, nil
}

func rmdir(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path files.PathArg
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(string(path)); err == nil && !fi.IsDir() {
		return nil, pyerr.OS(b.Name(), &os.PathError{Op: "rmdir", Path: string(path), Err: syscall.ENOTDIR})
	}
	if err := os.Remove(string(path)); err != nil {
		return nil, pyerr.OS(b.Name(), err)
	}
	return starlark.None, nil
}

func rename(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var src, dst files.PathArg
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "src", &src, "dst", &dst); err != nil {
		return nil, err
	}
	if err := os.Rename(string(src), string(dst)); err != nil {
		return nil, pyerr.OS(b.Name(), err)
	}
	return starlark.None, nil
}

func cpuCount(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return starlark.MakeInt(runtime.NumCPU()), nil
}

func getpid(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return starlark.MakeInt(os.Getpid()), nil
}

// sortedNames lists dir's entries as sorted directory and file names.
func sortedNames(dir string) (dirs, nondirs []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			// Python lists a link to a directory among the dirnames.
			if fi, err := os.Stat(dir + "/" + e.Name()); err == nil && fi.IsDir() {
				isDir = true
			}
		}
		if isDir {
			dirs = append(dirs, e.Name())
		} else {
			nondirs = append(nondirs, e.Name())
		}
	}
	sort.Strings(dirs)
	sort.Strings(nondirs)
	return dirs, nondirs, nil
}
