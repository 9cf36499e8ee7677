// Package stdlib gives starflow scripts the parts of Python's standard
// library that workflows use, with Python's names and semantics: the
// modules a script imports (os, sys, json, math, random, re, ...), each a
// Go package under stdlib/, and the Python builtins Starlark lacks or has
// differently (sum, round, isinstance, open, print(file=), ...), to shadow
// Starlark's universe.
//
// Values are made fresh by each call: nothing here is shared between runs.
// The host injects what touches the outside world (clock, sleep,
// randomness, environment, output) through Options.
//
// Errors a builtin raises where Python would raise carry the Python
// exception name (see package pyerr), and sys.exit returns an *ExitError.
package stdlib

import (
	"io"
	"os"
	"sync"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/starflow-hpc/starflow/stdlib/collections"
	"github.com/starflow-hpc/starflow/stdlib/files"
	"github.com/starflow-hpc/starflow/stdlib/functools"
	"github.com/starflow-hpc/starflow/stdlib/glob"
	"github.com/starflow-hpc/starflow/stdlib/itertools"
	pyjson "github.com/starflow-hpc/starflow/stdlib/json"
	pymath "github.com/starflow-hpc/starflow/stdlib/math"
	"github.com/starflow-hpc/starflow/stdlib/operator"
	pyos "github.com/starflow-hpc/starflow/stdlib/os"
	"github.com/starflow-hpc/starflow/stdlib/random"
	"github.com/starflow-hpc/starflow/stdlib/re"
	"github.com/starflow-hpc/starflow/stdlib/statistics"
	pystring "github.com/starflow-hpc/starflow/stdlib/string"
	"github.com/starflow-hpc/starflow/stdlib/sys"
	pytime "github.com/starflow-hpc/starflow/stdlib/time"
)

// ExitError is what sys.exit returns to stop the script: the host finds it
// with errors.As and exits with Code (printing Message, if any, on
// stderr).
type ExitError = sys.ExitError

// Options is what the modules and builtins take from the host.
type Options struct {
	// Argv is sys.argv: the script's path, then its arguments.
	Argv []string
	// Stdout and Stderr are sys.stdout and sys.stderr, where print
	// writes (os.Stdout and os.Stderr if nil). Apps print concurrently,
	// so they must be safe for concurrent use, as os.Stdout is.
	Stdout, Stderr io.Writer
	// Env is the environment os.environ is a snapshot of, as "KEY=value"
	// (os.Environ() if nil).
	Env []string
	// Now is the clock of the time module (time.Now if nil).
	Now func() time.Time
	// Sleep is time.sleep; it should return early, with an error, when
	// the run is interrupted (time.Sleep, uninterruptible, if nil).
	Sleep func(thread *starlark.Thread, d time.Duration) error
	// Seed seeds the random module's shared generator, as
	// random.seed(*Seed) would (from the operating system if nil).
	Seed *int64
	// Str converts print's arguments to text (Starlark's str if nil), so
	// a host with Python's str for floats and containers can use it.
	Str func(v starlark.Value) string
}

// streams are sys.stdout and sys.stderr for opts.
func (opts Options) streams() (stdout, stderr *files.Stream) {
	out, errw := opts.Stdout, opts.Stderr
	if out == nil {
		out = os.Stdout
	}
	if errw == nil {
		errw = os.Stderr
	}
	return files.NewStream("<stdout>", out, new(sync.Mutex)), files.NewStream("<stderr>", errw, new(sync.Mutex))
}

// Modules returns the importable modules by Python name: "os",
// "os.path", "sys", "glob", "fnmatch", "json", "math", "time", "random",
// "itertools", "functools", "re", "string", "operator", "collections",
// "statistics". Each call makes new modules.
func Modules(opts Options) map[string]*starlarkstruct.Module {
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	stdout, stderr := opts.streams()
	osMod := pyos.Module(env)
	return map[string]*starlarkstruct.Module{
		"os":          osMod,
		"os.path":     osMod.Members["path"].(*starlarkstruct.Module),
		"sys":         sys.Module(opts.Argv, stdout, stderr),
		"glob":        glob.Module(),
		"fnmatch":     glob.FnmatchModule(),
		"json":        pyjson.Module(),
		"math":        pymath.Module(),
		"time":        pytime.Module(opts.Now, opts.Sleep),
		"random":      random.Module(opts.Seed),
		"itertools":   itertools.Module(),
		"functools":   functools.Module(),
		"re":          re.Module(),
		"string":      pystring.Module(),
		"operator":    operator.Module(),
		"collections": collections.Module(),
		"statistics":  statistics.Module(),
	}
}
