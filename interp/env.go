package interp

import (
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/stdlib"
	"github.com/starflow-hpc/starflow/stdlib/format"
)

// The names every script sees are starflow's builtins (apps, futures,
// Config, ...), Python's builtins that Starlark lacks (stdlib.Builtins,
// shadowing Starlark's universe: print with sep/end/file, sum, round, ...)
// and the Python modules of the stdlib, bound by imports through hidden
// names (_sf_mod_os, _sf_mod_os__getcwd, ...) so that a script that does
// not import os has no global named os.

// scriptOutput is where print() and sys.stdout write: set by Exec to the
// session's writers, which know about the progress line.
type scriptOutput struct {
	mu  sync.Mutex
	w   io.Writer
	def io.Writer
}

func (o *scriptOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	w := o.w
	o.mu.Unlock()
	if w == nil {
		w = o.def
	}
	return w.Write(p)
}

func (o *scriptOutput) set(w io.Writer) {
	o.mu.Lock()
	o.w = w
	o.mu.Unlock()
}

// environment is a program's predeclared names and where they print.
type environment struct {
	names          starlark.StringDict
	stdout, stderr *scriptOutput
}

func newEnvironment(argv []string) *environment {
	env := &environment{
		stdout: &scriptOutput{def: os.Stdout},
		stderr: &scriptOutput{def: os.Stderr},
	}
	opts := stdlib.Options{
		Argv:   argv,
		Stdout: env.stdout,
		Stderr: env.stderr,
		Str:    format.Str,
		Sleep:  sleep,
	}
	names := builtins.Predeclared(argv)
	for k, v := range stdlib.Builtins(opts) {
		names[k] = v
	}
	for modName, m := range stdlib.Modules(opts) {
		hidden := moduleGlobal(modName)
		names[hidden] = m
		for member, v := range m.Members {
			names[hidden+"__"+member] = v
		}
	}
	// sys is also there without an import, as before (argv, exit, ...).
	names["sys"] = names[moduleGlobal("sys")]
	env.names = names
	return env
}

// moduleGlobal is the hidden predeclared name of a stdlib module.
func moduleGlobal(module string) string {
	return "_sf_mod_" + strings.ReplaceAll(module, ".", "_")
}

// stdlibTable is the import table of the stdlib modules.
func stdlibTable() ModuleTable {
	t := ModuleTable{}
	for modName, m := range stdlib.Modules(stdlib.Options{Stdout: io.Discard, Stderr: io.Discard}) {
		hidden := moduleGlobal(modName)
		names := make(map[string]string, len(m.Members))
		for member := range m.Members {
			names[member] = hidden + "__" + member
		}
		t[modName] = Module{Value: hidden, Names: names}
	}
	return t
}

// sleep is time.sleep: it returns early, with the reason, when the run is
// interrupted.
func sleep(thread *starlark.Thread, d time.Duration) error {
	ctx := builtins.ContextOf(thread)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Predeclared returns every name a script sees (starflow's builtins,
// Python's builtins, the stdlib's hidden module names), printing to
// os.Stdout. Tests and workers that compile with interp.Parse use it.
func Predeclared(argv []string) starlark.StringDict { return newEnvironment(argv).names }
