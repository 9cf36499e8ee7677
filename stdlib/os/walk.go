package os

import (
	"os"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/files"
)

func walk(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var top files.PathArg
	topdown, followlinks := true, false
	var onerror starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "top", &top, "topdown?", &topdown,
		"onerror?", &onerror, "followlinks?", &followlinks); err != nil {
		return nil, err
	}
	w := &walkIterable{top: string(top), followlinks: followlinks}
	if !topdown {
		var out []starlark.Value
		w.bottomUp(string(top), &out)
		w.eager = out
	}
	return w, nil
}

// walkIterable is what os.walk returns. Top-down it is lazy, like
// Python's generator, so that a script can prune dirnames in place before
// the walk descends.
type walkIterable struct {
	top         string
	followlinks bool
	eager       []starlark.Value // the bottom-up walk, computed at once
}

var _ starlark.Iterable = (*walkIterable)(nil)

func (w *walkIterable) String() string        { return "<generator object walk>" }
func (w *walkIterable) Type() string          { return "generator" }
func (w *walkIterable) Freeze()               {}
func (w *walkIterable) Truth() starlark.Bool  { return true }
func (w *walkIterable) Hash() (uint32, error) { return starlark.String(w.top).Hash() }

func (w *walkIterable) Iterate() starlark.Iterator {
	if w.eager != nil {
		return &listIterator{items: w.eager}
	}
	return &walkIterator{w: w, stack: []string{w.top}}
}

type walkIterator struct {
	w          *walkIterable
	stack      []string
	parent     string
	parentDirs *starlark.List // the dirnames last yielded, as the script left it
}

func (it *walkIterator) Next(p *starlark.Value) bool {
	if it.parentDirs != nil {
		// Descend into what is left of the dirnames the script saw,
		// first name first.
		for i := it.parentDirs.Len() - 1; i >= 0; i-- {
			name, ok := it.parentDirs.Index(i).(starlark.String)
			if !ok {
				continue
			}
			path := join(it.parent, string(name))
			if !it.w.followlinks && isLink(path) {
				continue
			}
			it.stack = append(it.stack, path)
		}
		it.parentDirs = nil
	}
	for len(it.stack) > 0 {
		dir := it.stack[len(it.stack)-1]
		it.stack = it.stack[:len(it.stack)-1]
		dirs, nondirs, err := sortedNames(dir)
		if err != nil {
			continue // Python's walk skips what it cannot list
		}
		it.parent, it.parentDirs = dir, strList(dirs)
		*p = starlark.Tuple{starlark.String(dir), it.parentDirs, strList(nondirs)}
		return true
	}
	return false
}

func (it *walkIterator) Done() {}

func (w *walkIterable) bottomUp(dir string, out *[]starlark.Value) {
	dirs, nondirs, err := sortedNames(dir)
	if err != nil {
		return
	}
	for _, d := range dirs {
		path := join(dir, d)
		if w.followlinks || !isLink(path) {
			w.bottomUp(path, out)
		}
	}
	*out = append(*out, starlark.Tuple{starlark.String(dir), strList(dirs), strList(nondirs)})
}

type listIterator struct{ items []starlark.Value }

func (it *listIterator) Next(p *starlark.Value) bool {
	if len(it.items) == 0 {
		return false
	}
	*p, it.items = it.items[0], it.items[1:]
	return true
}

func (it *listIterator) Done() {}

func strList(names []string) *starlark.List {
	l := make([]starlark.Value, len(names))
	for i, n := range names {
		l[i] = starlark.String(n)
	}
	return starlark.NewList(l)
}

func isLink(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&os.ModeSymlink != 0
}
