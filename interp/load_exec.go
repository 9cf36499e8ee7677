package interp

import (
	"errors"
	"fmt"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// A loadCache runs each library of one run once, the first time a load
// statement reaches it, and hands every later load the same frozen
// globals. It is go.starlark.net's parallel load cache (example_test.go)
// cut down to what Compile leaves possible: load statements run only at
// top level, on the thread that runs the script, and Compile has rejected
// load cycles, so the one cycle left to detect is a library that asks
// for itself while it runs, which would otherwise wait forever.
type loadCache struct {
	p       *Program
	mu      sync.Mutex
	entries map[*library]*loadEntry
}

type loadEntry struct {
	owner  *starlark.Thread // the thread running the library
	ready  chan struct{}    // closed when globals and err are set
	result starlark.StringDict
	err    error
}

func newLoadCache(p *Program) *loadCache {
	return &loadCache{p: p, entries: map[*library]*loadEntry{}}
}

// load is the thread's Load function. module is a library's canonical
// name: Compile put it in every load statement.
func (c *loadCache) load(thread *starlark.Thread, module string) (starlark.StringDict, error) {
	lib := c.p.libs[module]
	if lib == nil {
		return nil, fmt.Errorf("no library %s in this program", module)
	}
	c.mu.Lock()
	e := c.entries[lib]
	if e == nil {
		e = &loadEntry{owner: thread, ready: make(chan struct{})}
		c.entries[lib] = e
		c.mu.Unlock()
		e.result, e.err = c.run(thread, lib)
		close(e.ready)
		return e.result, e.err
	}
	c.mu.Unlock()
	select {
	case <-e.ready:
	default:
		if e.owner == thread {
			return nil, errors.New("cycle in load graph")
		}
		<-e.ready
	}
	return e.result, e.err
}

// run executes a library's top level on the loading thread, so that its
// apps see the session and its errors carry the load in their backtrace.
func (c *loadCache) run(thread *starlark.Thread, lib *library) (starlark.StringDict, error) {
	predeclared := make(starlark.StringDict, len(c.p.predeclared))
	for k, v := range c.p.predeclared {
		predeclared[k] = v
	}
	predeclared["__name__"] = starlark.String(lib.moduleName())
	globals, err := lib.prog.Init(thread, predeclared)
	if err != nil {
		return nil, &libraryError{module: lib.name, err: err}
	}
	// Frozen: every file that loads the library shares its values, and
	// apps may read them from any thread.
	globals.Freeze()
	out := make(starlark.StringDict, len(globals)+1)
	members := make(starlark.StringDict, len(globals))
	for name, v := range globals {
		out[name] = v
		if name[0] != '_' {
			members[name] = v
		}
	}
	out[moduleKey] = &starlarkstruct.Module{Name: lib.moduleName(), Members: members}
	return out, nil
}

// A libraryError is a library's top level failing. The interpreter wraps
// it as "cannot load MODULE: ..." at the load statement; FormatError looks
// through to the library's own error and backtrace.
type libraryError struct {
	module string
	err    error
}

func (e *libraryError) Error() string { return e.err.Error() }
func (e *libraryError) Unwrap() error { return e.err }
