package builtins

import (
	"context"
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/stdlib/exc"
	"github.com/starflow-hpc/starflow/stdlib/format"
)

// Predeclared returns the names every script sees: the app decorators,
// File, Config, executors, the parsl and sys modules, argv and __name__.
// The values are fresh for each call (no package-level mutable state).
func Predeclared(argv []string) starlark.StringDict {
	argvList := make([]starlark.Value, len(argv))
	for i, a := range argv {
		argvList[i] = starlark.String(a)
	}
	av := starlark.NewList(argvList)
	av.Freeze()

	apps := starlark.StringDict{
		"python_app": starlark.NewBuiltin("python_app", decorator(dfk.Python)),
		"bash_app":   starlark.NewBuiltin("bash_app", decorator(dfk.Bash)),
		"join_app":   starlark.NewBuiltin("join_app", decorator(dfk.JoinApp)),
	}
	ctors := starlark.StringDict{
		"File":                   starlark.NewBuiltin("File", newFileBuiltin),
		"Config":                 starlark.NewBuiltin("Config", newConfig),
		"ThreadPoolExecutor":     starlark.NewBuiltin("ThreadPoolExecutor", newThreadPoolExecutor),
		"BasicMemoizer":          starlark.NewBuiltin("BasicMemoizer", newBasicMemoizer),
		"HighThroughputExecutor": starlark.NewBuiltin("HighThroughputExecutor", newHighThroughputExecutor),
		"MPIExecutor":            starlark.NewBuiltin("MPIExecutor", newMPIExecutor),
		"LocalProvider":          starlark.NewBuiltin("LocalProvider", newLocalProvider),
		"SlurmProvider":          starlark.NewBuiltin("SlurmProvider", newSlurmProvider),
		"get_all_checkpoints":    starlark.NewBuiltin("get_all_checkpoints", getAllCheckpoints),
		"get_last_checkpoint":    starlark.NewBuiltin("get_last_checkpoint", getLastCheckpoint),
	}
	for k, v := range launcherBuiltins() {
		ctors[k] = v
	}
	for k, v := range monitoringBuiltins() {
		ctors[k] = v
	}
	parslMembers := starlark.StringDict{
		"load":                   starlark.NewBuiltin("load", parslLoad),
		"dfk":                    starlark.NewBuiltin("dfk", parslDFK),
		"clear":                  starlark.NewBuiltin("clear", parslClear),
		"wait_for_current_tasks": starlark.NewBuiltin("wait_for_current_tasks", waitForCurrentTasks),
		"set_stream_logger":      starlark.NewBuiltin("set_stream_logger", acceptLogging),
		"set_file_logger":        starlark.NewBuiltin("set_file_logger", acceptLogging),
		"AUTO_LOGNAME":           autoLogname{},
	}
	// "load" is a Starlark keyword, so the front end spells parsl.load as
	// parsl.LOAD (interp.LoadAttr); both names must work.
	parslMembers["LOAD"] = parslMembers["load"]
	for k, v := range apps {
		parslMembers[k] = v
	}
	for k, v := range ctors {
		parslMembers[k] = v
	}
	futures := FuturesModule()
	out := starlark.StringDict{
		"parsl":    &starlarkstruct.Module{Name: "parsl", Members: parslMembers},
		"sys":      &starlarkstruct.Module{Name: "sys", Members: starlark.StringDict{"argv": av}},
		"argv":     av,
		"__name__": starlark.String("__main__"),
		// concurrent.futures, bound by `import concurrent.futures` and
		// `from concurrent.futures import ...` (interp's module table).
		"_sf_concurrent": &starlarkstruct.Module{Name: "concurrent", Members: starlark.StringDict{"futures": futures}},
		"_sf_futures":    futures,
		// Parsl's dependency resolvers, for Config(dependency_resolver=):
		// starflow always resolves nested futures.
		"_sf_deep_resolver":    starlark.String("DEEP_DEPENDENCY_RESOLVER"),
		"_sf_shallow_resolver": starlark.String("SHALLOW_DEPENDENCY_RESOLVER"),
	}
	for k, v := range apps {
		out[k] = v
	}
	for name, v := range futures.Members {
		out["_sf_futures_"+name] = v // what `from concurrent.futures import wait` binds
	}
	// What the front end lowers f-strings, .format, %, ** and is into,
	// and try/except/raise/with/assert/del.
	for name, v := range format.Builtins() {
		out[name] = v
	}
	for name, v := range exc.Builtins() {
		out[name] = v
	}
	// Python's exception classes and Parsl's (DependencyError, ...), for
	// except clauses and raise.
	for _, name := range exc.ClassNames() {
		out[name] = exc.ClassOf(name)
	}
	for k, v := range ctors {
		out[k] = v
	}
	return out
}

// decorator is python_app / bash_app / join_app: bare (@python_app), called
// (@python_app(cache=True)) or applied (f = python_app(f)).
func decorator(kind dfk.Kind) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var (
			function    starlark.Value = starlark.None
			dataFlow    starlark.Value = starlark.None
			cache                      = false
			executors   starlark.Value = starlark.String("all")
			ignoreCache starlark.Value = starlark.None
		)
		pairs := []any{"function?", &function, "data_flow_kernel?", &dataFlow, "cache?", &cache}
		if kind != dfk.JoinApp {
			pairs = append(pairs, "executors?", &executors)
		}
		pairs = append(pairs, "ignore_for_cache?", &ignoreCache)
		if err := unpackArgs(b.Name(), args, kwargs, pairs...); err != nil {
			return nil, err
		}
		app := &App{kind: kind, cache: cache}
		switch x := executors.(type) {
		case starlark.String:
			if x != "all" {
				app.executors = []string{string(x)}
			}
		case *starlark.List, starlark.Tuple:
			labels, err := stringList(b.Name(), "executors", x)
			if err != nil {
				return nil, err
			}
			app.executors = labels
		default:
			return nil, fmt.Errorf(`%s: for parameter executors: got %s, want "all" or a list of executor labels`, b.Name(), executors.Type())
		}
		if ignoreCache != starlark.None {
			names, err := stringList(b.Name(), "ignore_for_cache", ignoreCache)
			if err != nil {
				return nil, err
			}
			app.ignoreForCache = names
		}
		if function == starlark.None {
			// Called form: return the decorator that takes the function.
			return starlark.NewBuiltin(b.Name(), func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
				var fn starlark.Value
				if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &fn); err != nil {
					return nil, err
				}
				a := &App{kind: app.kind, cache: app.cache, executors: app.executors, ignoreForCache: app.ignoreForCache}
				return wrap(b.Name(), a, fn)
			}), nil
		}
		return wrap(b.Name(), app, function)
	}
}

func wrap(name string, app *App, fn starlark.Value) (starlark.Value, error) {
	f, ok := fn.(*starlark.Function)
	if !ok {
		return nil, fmt.Errorf("%s: got %s, want a function defined with def", name, fn.Type())
	}
	app.fn = f
	return app, nil
}

func stringList(fn, param string, v starlark.Value) ([]string, error) {
	it, ok := v.(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("%s: for parameter %s: got %s, want a list of strings", fn, param, v.Type())
	}
	var out []string
	iter := it.Iterate()
	defer iter.Done()
	var e starlark.Value
	for iter.Next(&e) {
		s, ok := e.(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter %s: got %s in the list, want string", fn, param, e.Type())
		}
		out = append(out, string(s))
	}
	return out, nil
}

func parslLoad(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var cfgV starlark.Value = starlark.None
	if err := unpackArgs(b.Name(), args, kwargs, "config?", &cfgV); err != nil {
		return nil, err
	}
	s, err := sessionOf(thread)
	if err != nil {
		return nil, err
	}
	var cfg *Config
	switch x := cfgV.(type) {
	case *Config:
		cfg = x
	case starlark.NoneType:
		cfg = defaultConfig(s.opts.Workers)
	default:
		return nil, fmt.Errorf("%s: for parameter config: got %s, want Config", b.Name(), cfgV.Type())
	}
	kr, err := s.load(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return &DFKValue{kr: kr}, nil
}

func parslDFK(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := noArgsSession(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	kr := s.currentRun()
	if kr == nil {
		return nil, fmt.Errorf("%s: no configuration loaded; call parsl.load(config) first", b.Name())
	}
	return &DFKValue{kr: kr}, nil
}

func parslClear(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := noArgsSession(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	if err := s.clear(); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return starlark.None, nil
}

func waitForCurrentTasks(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := noArgsSession(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	kr := s.currentRun()
	if kr == nil {
		return starlark.None, nil
	}
	if err := kr.k.WaitAll(s.ctx); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	// The finished tasks' done callbacks have run, too, when this returns.
	s.callbacks.wait(s.ctx)
	return starlark.None, nil
}

// noArgsSession checks that a session builtin got no arguments and
// returns the session of the calling thread.
func noArgsSession(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (*Session, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return sessionOf(thread)
}

// currentRun is the loaded configuration's run, or nil.
func (s *Session) currentRun() *kernelRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// acceptLogging takes Parsl's logging set-up calls: starflow always logs to
// runinfo/NNN/starflow.log, with --log-level.
func acceptLogging(_ *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	return starlark.None, nil
}

// DFKValue is what parsl.load and parsl.dfk() return.
type DFKValue struct{ kr *kernelRun }

var _ starlark.HasAttrs = (*DFKValue)(nil)

func (d *DFKValue) String() string        { return fmt.Sprintf("<DataFlowKernel run_dir=%s>", d.kr.dir) }
func (d *DFKValue) Type() string          { return "DataFlowKernel" }
func (d *DFKValue) Freeze()               {}
func (d *DFKValue) Truth() starlark.Bool  { return true }
func (d *DFKValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: DataFlowKernel") }
func (d *DFKValue) AttrNames() []string {
	return []string{"checkpoint", "cleanup", "config", "run_dir", "wait_for_current_tasks"}
}

func (d *DFKValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "run_dir":
		return starlark.String(d.kr.dir), nil
	case "config":
		return d.kr.cfg, nil
	case "wait_for_current_tasks":
		return starlark.NewBuiltin(name, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			s, err := noArgsSession(thread, b, args, kwargs)
			if err != nil {
				return nil, err
			}
			return starlark.None, d.kr.k.WaitAll(s.ctx)
		}), nil
	case "checkpoint":
		// Parsl's dfk.checkpoint(): write the results batched so far
		// (checkpoint_mode "manual", "periodic", "dfk_exit").
		return starlark.NewBuiltin(name, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			if d.kr.memo == nil {
				return starlark.MakeInt(0), nil
			}
			n, err := d.kr.memo.checkpoint(context.Background())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			return starlark.MakeInt(n), nil
		}), nil
	case "cleanup":
		return starlark.NewBuiltin(name, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			s, err := noArgsSession(thread, b, args, kwargs)
			if err != nil {
				return nil, err
			}
			if err := s.cleanup(d.kr); err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			return starlark.None, nil
		}), nil
	}
	return nil, nil
}
