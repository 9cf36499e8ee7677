// Package interp turns a script into a running Starlark program: it lowers
// the Parsl dialect (decorators, imports), parses and resolves with
// starflow's language options, and runs the result on a thread that
// carries the session. Errors come back with the user's file:line:col.
package interp

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/dfk"
)

// FileOptions are the language options of every starflow script: sets,
// while loops, top-level control flow, global reassignment and recursion.
func FileOptions() *syntax.FileOptions {
	return &syntax.FileOptions{
		Set:             true,
		While:           true,
		TopLevelControl: true,
		GlobalReassign:  true,
		Recursion:       true,
	}
}

// Modules is the table of Python-style imports a script may use.
func Modules() ModuleTable {
	apps := map[string]string{"python_app": "python_app", "bash_app": "bash_app", "join_app": "join_app"}
	parsl := map[string]string{"Config": "Config", "File": "File", "ThreadPoolExecutor": "ThreadPoolExecutor", "BasicMemoizer": "BasicMemoizer",
		"HighThroughputExecutor": "HighThroughputExecutor", "MPIExecutor": "MPIExecutor"}
	htexNames := map[string]string{"HighThroughputExecutor": "HighThroughputExecutor"}
	launcherNames := map[string]string{"SingleNodeLauncher": "SingleNodeLauncher", "SimpleLauncher": "SimpleLauncher",
		"SrunLauncher": "SrunLauncher", "MpiExecLauncher": "MpiExecLauncher"}
	for k, v := range apps {
		parsl[k] = v
	}
	t := stdlibTable()
	for name, m := range (ModuleTable{
		"parsl":         {Value: "parsl", Names: parsl},
		"parsl.app":     {Names: map[string]string{}},
		"parsl.app.app": {Names: apps},
		"parsl.config":  {Names: map[string]string{"Config": "Config"}},
		"parsl.executors": {Names: map[string]string{"ThreadPoolExecutor": "ThreadPoolExecutor",
			"HighThroughputExecutor": "HighThroughputExecutor", "MPIExecutor": "MPIExecutor"}},
		"parsl.executors.high_throughput.mpi_executor": {Names: map[string]string{"MPIExecutor": "MPIExecutor"}},
		"parsl.executors.high_throughput":              {Names: map[string]string{}},
		"parsl.executors.high_throughput.executor":     {Names: htexNames},
		"parsl.providers": {Names: map[string]string{"LocalProvider": "LocalProvider",
			"SlurmProvider": "SlurmProvider"}},
		"parsl.providers.slurm":       {Names: map[string]string{}},
		"parsl.providers.slurm.slurm": {Names: map[string]string{"SlurmProvider": "SlurmProvider"}},
		"parsl.providers.local":       {Names: map[string]string{}},
		"parsl.providers.local.local": {Names: map[string]string{"LocalProvider": "LocalProvider"}},
		"parsl.launchers":             {Names: launcherNames},
		"parsl.monitoring":            {Names: map[string]string{"MonitoringHub": "MonitoringHub"}},
		"parsl.monitoring.monitoring": {Names: map[string]string{"MonitoringHub": "MonitoringHub"}},
		"parsl.launchers.launchers":   {Names: launcherNames},
		"parsl.executors.threads":     {Names: map[string]string{"ThreadPoolExecutor": "ThreadPoolExecutor"}},
		"parsl.data_provider":         {Names: map[string]string{}},
		"parsl.data_provider.files":   {Names: map[string]string{"File": "File"}},
		"parsl.dataflow":              {Names: map[string]string{}},
		"parsl.dataflow.memoization":  {Names: map[string]string{"BasicMemoizer": "BasicMemoizer"}},
		"parsl.utils": {Names: map[string]string{
			"get_all_checkpoints": "get_all_checkpoints", "get_last_checkpoint": "get_last_checkpoint"}},
		"parsl.app.errors":      {Names: parslErrors},
		"parsl.dataflow.errors": {Names: parslErrors},
		// starflow always resolves futures nested in lists, tuples and
		// dicts; both of Parsl's resolvers are accepted and mean that.
		"parsl.dataflow.dependency_resolvers": {Names: map[string]string{
			"DEEP_DEPENDENCY_RESOLVER": "_sf_deep_resolver", "SHALLOW_DEPENDENCY_RESOLVER": "_sf_shallow_resolver"}},
		"parsl.dataflow.futures": {Names: map[string]string{}},
		"concurrent":             {Value: "_sf_concurrent", Names: map[string]string{}},
		"concurrent.futures": {Value: "_sf_futures", Names: map[string]string{
			"wait": "_sf_futures_wait", "as_completed": "_sf_futures_as_completed",
			"FIRST_COMPLETED": "_sf_futures_FIRST_COMPLETED", "FIRST_EXCEPTION": "_sf_futures_FIRST_EXCEPTION",
			"ALL_COMPLETED": "_sf_futures_ALL_COMPLETED", "TimeoutError": "TimeoutError"}},
	}) {
		t[name] = m
	}
	return t
}

// parslErrors are the exception classes of parsl.app.errors and
// parsl.dataflow.errors.
var parslErrors = map[string]string{
	"DependencyError": "DependencyError", "BashExitFailure": "BashExitFailure",
	"AppTimeout": "AppTimeout", "JoinError": "JoinError", "ParslError": "ParslError",
	"AppException": "AppException", "DataFlowException": "DataFlowException",
}

// Program is a compiled script and the libraries it loads, ready to run.
type Program struct {
	path        string
	prog        *starlark.Program
	predeclared starlark.StringDict
	env         *environment
	code        map[string]*codeIndex // by file name, for code digests
	files       map[string]*library   // by file name: the script and its libraries
	libs        map[string]*library   // libraries by canonical module name
}

// Compile reads, lowers, parses, resolves and compiles the script at path
// and every library it loads (see load.go for how load() finds them). It
// has no side effects: a script that does not compile leaves nothing
// behind. Its error lists every problem found (Problems), in the script
// and in its libraries.
func Compile(path string, argv []string, opts ...Option) (*Program, error) {
	src, err := readScript(path)
	if err != nil {
		return nil, err
	}
	return CompileSource(path, src, argv, opts...)
}

func readScript(path string) ([]byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such script", path)
		}
		return nil, fmt.Errorf("read script: %w", err)
	}
	return src, nil
}

// CompileSource is Compile for a script already in memory. Its libraries
// are read from disk (or the binary) as usual.
func CompileSource(path string, src []byte, argv []string, opts ...Option) (*Program, error) {
	env := newEnvironment(argv)
	predeclared := env.names
	k, err := link(path, src, predeclared, opts)
	if err != nil {
		return nil, err
	}
	script := k.order[0]
	p := &Program{
		path:        path,
		prog:        script.prog,
		env:         env,
		predeclared: predeclared,
		code:        map[string]*codeIndex{},
		files:       map[string]*library{},
		libs:        map[string]*library{},
	}
	for _, lib := range k.order {
		p.code[lib.file] = lib.index
		p.files[lib.file] = lib
		if lib != script {
			p.libs[lib.name] = lib
		}
	}
	return p, nil
}

// CodeDigest is the digest of an app's code: its own def and every
// top-level def, constant and library it reaches. ok is false for a
// function this program did not compile.
func (p *Program) CodeDigest(fn *starlark.Function) (digest [32]byte, ok bool) {
	file := fn.Position().Filename()
	ix, found := p.code[file]
	if !found {
		return digest, false
	}
	if digest, ok = ix.digest(fn, p.libraryHash); !ok {
		return digest, false
	}
	return p.withLibraries(p.files[file], ix, fn, digest), true
}

// withLibraries adds to an app's digest the hash of each library whose
// loaded names the app, or a def it reaches, mentions. The code index
// counts only globals as references, and loaded names are not globals
// (they resolve as file-local, or free inside a def), so without this an
// edited library would not change the digest of the apps that call it.
func (p *Program) withLibraries(lib *library, ix *codeIndex, fn *starlark.Function, digest [32]byte) [32]byte {
	if lib == nil || len(lib.loadUses) == 0 {
		return digest
	}
	pos := fn.Position()
	mods := map[string]bool{}
	seen := map[*defInfo]bool{}
	todo := []*defInfo{ix.byPos[[2]int32{pos.Line, pos.Col}]}
	for len(todo) > 0 {
		d := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if d == nil || seen[d] {
			continue
		}
		seen[d] = true
		for _, m := range lib.loadUses[d.name] {
			mods[m] = true
		}
		for _, ref := range d.refs {
			todo = append(todo, ix.defs[ref])
		}
	}
	if len(mods) == 0 {
		return digest
	}
	names := make([]string, 0, len(mods))
	for m := range mods {
		names = append(names, m)
	}
	sort.Strings(names)
	h := sha256.New()
	h.Write(digest[:])
	for _, m := range names {
		fmt.Fprintf(h, "library %s\n", m)
		sum, _ := p.libraryHash(m)
		h.Write(sum[:])
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// libraryHash is the content hash of a loaded library (its text and, in
// turn, the libraries it loads), by canonical module name: the name every
// load statement holds once compiled.
func (p *Program) libraryHash(module string) ([32]byte, bool) {
	if lib := p.libs[module]; lib != nil {
		return lib.hash, true
	}
	return [32]byte{}, false
}

// Exec runs the program's top level on a new thread attached to session.
// Cancelling ctx cancels the thread (an interrupt). Each library runs
// once, when a load first reaches it, on the same thread, and is frozen.
// It returns the module's globals, even on error.
func (p *Program) Exec(ctx context.Context, session *builtins.Session) (starlark.StringDict, error) {
	thread := &starlark.Thread{Name: "main", Print: session.Print, Load: newLoadCache(p).load}
	session.Attach(thread)
	p.env.stdout.set(session.Stdout())
	p.env.stderr.set(session.Stderr())
	stop := context.AfterFunc(ctx, func() { thread.Cancel(context.Cause(ctx).Error()) })
	defer stop()
	return p.prog.Init(thread, p.predeclared)
}

// FormatError renders an error from Compile or Exec as the user should see
// it: `file:line:col: message`, then the Starlark backtrace if there is one.
func FormatError(err error) string {
	var ps Problems
	if errors.As(err, &ps) {
		return ps.Error()
	}
	var ev *starlark.EvalError
	if errors.As(err, &ev) {
		ev = libraryFailure(ev)
		if te, appErr, ok := appFailure(ev); ok {
			// The script stopped in result() of a failed task: point at
			// the app's line and show both stacks, the script's first.
			var b strings.Builder
			fmt.Fprintf(&b, "%s: task %d (%s) failed: %s\n", innermost(appErr.CallStack), te.ID, te.App, appErr.Msg)
			b.WriteString(strings.TrimRight(ev.CallStack.String(), "\n"))
			fmt.Fprintf(&b, "\n  task %d (%s) ran:\n", te.ID, te.App)
			for _, fr := range appErr.CallStack {
				fmt.Fprintf(&b, "    %s: in %s\n", fr.Pos, fr.Name)
			}
			fmt.Fprintf(&b, "Error: %s", appErr.Msg)
			return b.String()
		}
		pos := innermost(ev.CallStack)
		first, _, _ := strings.Cut(ev.Msg, "\n")
		if starlarkFrames(ev.CallStack) <= 1 && !strings.Contains(ev.Msg, "\n") {
			// An error in top-level code: the position says it all.
			return fmt.Sprintf("%s: %s", pos, first)
		}
		return fmt.Sprintf("%s: %s\n%s", pos, first, strings.TrimRight(ev.Backtrace(), "\n"))
	}
	var el resolve.ErrorList
	if errors.As(err, &el) {
		lines := make([]string, len(el))
		for i, e := range el {
			lines[i] = fmt.Sprintf("%s: %s", e.Pos, e.Msg)
		}
		return strings.Join(lines, "\n")
	}
	return err.Error()
}

// libraryFailure looks through "cannot load X: ..." to the error of the
// library's own top level, whose backtrace runs from the script's load
// statement into the library.
func libraryFailure(ev *starlark.EvalError) *starlark.EvalError {
	for {
		var le *libraryError
		var inner *starlark.EvalError
		if !errors.As(ev.Unwrap(), &le) || !errors.As(le.err, &inner) {
			return ev
		}
		ev = inner
	}
}

// appFailure finds, behind a script error, the failed task and the
// Starlark error its app raised.
func appFailure(ev *starlark.EvalError) (*dfk.TaskError, *starlark.EvalError, bool) {
	var te *dfk.TaskError
	if !errors.As(ev.Unwrap(), &te) {
		return nil, nil, false
	}
	var appErr *starlark.EvalError
	if !errors.As(te.Err, &appErr) {
		return nil, nil, false
	}
	return te, appErr, true
}

// starlarkFrames counts the frames that are in Starlark code.
func starlarkFrames(cs starlark.CallStack) int {
	n := 0
	for _, fr := range cs {
		if fr.Pos.IsValid() && fr.Pos.Filename() != "<builtin>" {
			n++
		}
	}
	return n
}

// innermost is the position of the deepest frame that is in Starlark code.
func innermost(cs starlark.CallStack) syntax.Position {
	for i := len(cs) - 1; i >= 0; i-- {
		if cs[i].Pos.IsValid() && cs[i].Pos.Filename() != "<builtin>" {
			return cs[i].Pos
		}
	}
	return syntax.Position{}
}
