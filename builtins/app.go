package builtins

import (
	"cmp"
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/executors/mpi"
)

// App is a function wrapped by python_app, bash_app or join_app. Calling
// it submits a task and returns an AppFuture.
type App struct {
	kind           dfk.Kind
	fn             *starlark.Function
	executors      []string // nil: any ("all")
	cache          bool
	ignoreForCache []string
	next           atomic.Uint32 // round robin over executors
}

var (
	_ starlark.Callable = (*App)(nil)
	_ starlark.HasAttrs = (*App)(nil)
)

func (a *App) Name() string { return a.fn.Name() }
func (a *App) String() string {
	return fmt.Sprintf("<%s %s>", decoratorName(a.kind), a.fn.Name())
}
func (a *App) Type() string          { return decoratorName(a.kind) }
func (a *App) Freeze()               { a.fn.Freeze() }
func (a *App) Truth() starlark.Bool  { return true }
func (a *App) Hash() (uint32, error) { return a.fn.Hash() }
func (a *App) AttrNames() []string   { return []string{"__name__", "cache", "executors", "func"} }
func (a *App) Attr(name string) (starlark.Value, error) {
	switch name {
	case "__name__":
		return starlark.String(a.fn.Name()), nil
	case "func":
		return a.fn, nil
	case "cache":
		return starlark.Bool(a.cache), nil
	case "executors":
		if a.executors == nil {
			return starlark.String("all"), nil
		}
		l := make([]starlark.Value, len(a.executors))
		for i, e := range a.executors {
			l[i] = starlark.String(e)
		}
		return starlark.NewList(l), nil
	}
	return nil, nil
}

// Function is the app's Starlark body.
func (a *App) Function() *starlark.Function { return a.fn }

func decoratorName(k dfk.Kind) string {
	switch k {
	case dfk.Bash:
		return "bash_app"
	case dfk.JoinApp:
		return "join_app"
	}
	return "python_app"
}

// specialKwargs are consumed by starflow, as Parsl consumes them, and
// passed on to the function only if it declares them.
var specialKwargs = map[string]bool{
	"inputs": true, "outputs": true, "stdout": true, "stderr": true,
	"walltime": true, "parsl_resource_specification": true,
}

// call is one invocation being turned into a task.
type call struct {
	app      *App
	args     starlark.Tuple
	kwargs   []starlark.Tuple // what the function receives
	special  map[string]starlark.Value
	deps     []*dfk.Future
	hasFut   bool
	walltime time.Duration
	// mpi is the checked parsl_resource_specification of a call bound
	// for an MPI executor; it travels in the task's environment.
	mpi *mpi.Spec
}

// CallInternal submits the task; it returns at once.
func (a *App) CallInternal(thread *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := sessionOf(thread)
	if err != nil {
		return nil, err
	}
	// Check the call before starting a kernel: a script whose first call
	// is wrong must leave no run folder behind.
	c, err := a.prepare(args, kwargs)
	if err != nil {
		return nil, err
	}
	outputs, err := outputFiles(c.special["outputs"])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.fn.Name(), err)
	}
	io, err := a.bashIO(c)
	if err != nil {
		return nil, err
	}
	kr, err := s.kernel()
	if err != nil {
		return nil, err
	}
	label, err := a.pickExecutor(kr.k)
	if err != nil {
		return nil, err
	}
	if io != nil {
		io.runDir = kr.dir
	}
	if a.kind != dfk.JoinApp {
		ev := kr.cfg.executor(cmp.Or(label, kr.defaultLabel))
		if c.mpi, err = resourceSpec(c.special["parsl_resource_specification"], ev); err != nil {
			return nil, fmt.Errorf("%s: %w", a.fn.Name(), err)
		}
	}
	key := a.keyFunc(s, kr, c)
	if key != nil {
		// The first cached call opens the project's memo store, so a
		// store that cannot be used is an error at the user's line.
		if _, err := s.memoStore(); err != nil {
			return nil, fmt.Errorf("%s: %w", a.fn.Name(), err)
		}
	}
	var rc *remoteCall
	if a.kind == dfk.JoinApp && label == "" && kr.remote[kr.defaultLabel] {
		label = internalLabel
	} else if target := cmp.Or(label, kr.defaultLabel); kr.remote[target] {
		if rc, err = a.remoteCall(s, c, io); err != nil {
			return nil, err
		}
		// Encode, on the interchange's goroutine, waits for the id.
		rc.idMu.Lock()
		defer rc.idMu.Unlock()
	}
	spec := dfk.Spec{
		App:      a.fn.Name(),
		Kind:     a.kind,
		Executor: label,
		Deps:     c.deps,
		Run:      a.runner(s, c, io),
		Key:      key,
		Walltime: c.walltime,
	}
	if rc != nil {
		spec.Payload = rc
	}
	if io != nil && io.hasFiles() {
		spec.Logs = io.logs // the monitoring database's task_stdout and task_stderr
	}
	fut := kr.k.Submit(spec)
	if rc != nil {
		rc.id = fut.ID()
	}
	af := &AppFuture{fut: fut, stdout: starlark.None, stderr: starlark.None}
	if io != nil {
		af.stdout, af.stderr = io.stdoutValue(fut.ID()), io.stderrValue(fut.ID())
	}
	dfs := make([]starlark.Value, len(outputs))
	for i, f := range outputs {
		dfs[i] = &DataFuture{parent: fut, file: f}
	}
	af.outputs = starlark.NewList(dfs)
	af.outputs.Freeze()
	return af, nil
}

func (a *App) pickExecutor(k *dfk.Kernel) (string, error) {
	if len(a.executors) == 0 {
		return "", nil
	}
	for _, l := range a.executors {
		if !k.HasExecutor(l) {
			return "", fmt.Errorf("%s: executor %q is not in the loaded configuration (have: %v)", a.fn.Name(), l, k.Labels())
		}
	}
	if len(a.executors) == 1 {
		return a.executors[0], nil
	}
	return a.executors[int(a.next.Add(1))%len(a.executors)], nil
}

// prepare splits starflow's keyword arguments from the function's, checks
// the call against the function's signature, finds the futures the task
// waits on and freezes what crosses to the task's goroutine.
func (a *App) prepare(args starlark.Tuple, kwargs []starlark.Tuple) (*call, error) {
	c := &call{app: a, args: args}
	declared := a.declaredParams()
	for _, kv := range kwargs {
		name := string(kv[0].(starlark.String))
		if specialKwargs[name] {
			if c.special == nil {
				c.special = make(map[string]starlark.Value, 2)
			}
			c.special[name] = kv[1]
			if !declared[name] && !a.fn.HasKwargs() {
				continue
			}
		}
		c.kwargs = append(c.kwargs, kv)
	}
	if err := a.checkCall(len(args), c.kwargs); err != nil {
		return nil, err
	}
	// Signature defaults count too: Parsl reads stdout=, stderr= and
	// walltime= from the function's defaults.
	for name := range specialKwargs {
		if _, given := c.special[name]; given {
			continue
		}
		if d := a.paramDefault(name); d != nil && d != starlark.None {
			if c.special == nil {
				c.special = make(map[string]starlark.Value, 2)
			}
			c.special[name] = d
		}
	}
	if wt, ok := c.special["walltime"]; ok && wt != starlark.None {
		secs, ok := starlark.AsFloat(wt)
		if !ok || secs <= 0 {
			return nil, fmt.Errorf("%s: for parameter walltime: got %s, want a positive number of seconds", a.fn.Name(), wt.String())
		}
		c.walltime = time.Duration(secs * float64(time.Second))
	}
	var found bool
	c.deps, found = collectSeq(args, nil)
	c.hasFut = found
	for _, kv := range kwargs {
		var f bool
		c.deps, f = collectFutures(kv[1], c.deps)
		c.hasFut = c.hasFut || f
	}
	args.Freeze()
	for _, kv := range kwargs {
		kv[1].Freeze()
	}
	return c, nil
}

func (a *App) declaredParams() map[string]bool {
	n := a.fn.NumParams()
	out := make(map[string]bool, n)
	for i := 0; i < n; i++ {
		name, _ := a.fn.Param(i)
		out[name] = true
	}
	return out
}

func (a *App) paramDefault(name string) starlark.Value {
	for i := 0; i < a.fn.NumParams(); i++ {
		if p, _ := a.fn.Param(i); p == name {
			return a.fn.ParamDefault(i)
		}
	}
	return nil
}

// checkCall reports, at the call site, the mistakes Python would report
// when the function is called: too many or too few arguments, unknown or
// repeated keywords.
func (a *App) checkCall(nargs int, kwargs []starlark.Tuple) error {
	fn := a.fn
	nparams := fn.NumParams()
	if fn.HasVarargs() {
		nparams--
	}
	if fn.HasKwargs() {
		nparams--
	}
	nplain := nparams - fn.NumKwonlyParams()
	if nargs > nplain && !fn.HasVarargs() {
		return fmt.Errorf("%s() takes %d positional argument%s but %d were given", fn.Name(), nplain, plural(nplain), nargs)
	}
	bound := make([]bool, nparams)
	for i := 0; i < nargs && i < nplain; i++ {
		bound[i] = true
	}
	for _, kv := range kwargs {
		name := string(kv[0].(starlark.String))
		idx := -1
		for i := 0; i < nparams; i++ {
			if p, _ := fn.Param(i); p == name {
				idx = i
				break
			}
		}
		switch {
		case idx < 0 && !fn.HasKwargs():
			return fmt.Errorf("%s() got an unexpected keyword argument '%s'", fn.Name(), name)
		case idx >= 0 && bound[idx]:
			return fmt.Errorf("%s() got multiple values for argument '%s'", fn.Name(), name)
		case idx >= 0:
			bound[idx] = true
		}
	}
	var missing []string
	for i := 0; i < nparams; i++ {
		if !bound[i] && fn.ParamDefault(i) == nil {
			p, _ := fn.Param(i)
			missing = append(missing, "'"+p+"'")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s() missing %d required argument%s: %s", fn.Name(), len(missing), plural(len(missing)), joinAnd(missing))
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func joinAnd(xs []string) string {
	switch len(xs) {
	case 1:
		return xs[0]
	case 2:
		return xs[0] + " and " + xs[1]
	}
	out := ""
	for i, x := range xs[:len(xs)-1] {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out + " and " + xs[len(xs)-1]
}

func outputFiles(v starlark.Value) ([]*File, error) {
	if v == nil || v == starlark.None {
		return nil, nil
	}
	it, ok := v.(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("for parameter outputs: got %s, want a list of File", v.Type())
	}
	var out []*File
	iter := it.Iterate()
	defer iter.Done()
	var e starlark.Value
	for iter.Next(&e) {
		switch f := e.(type) {
		case *File:
			out = append(out, f)
		case starlark.String:
			nf, err := NewFile(string(f))
			if err != nil {
				return nil, err
			}
			out = append(out, nf)
		default:
			return nil, fmt.Errorf("for parameter outputs: got %s in the list, want File", e.Type())
		}
	}
	return out, nil
}

// resolved returns the call's arguments with every future replaced by its
// result; it is called once the task's dependencies are done.
func (c *call) resolved() (starlark.Tuple, []starlark.Tuple, error) {
	if !c.hasFut {
		return c.args, c.kwargs, nil
	}
	args, err := resolveTuple(c.args)
	if err != nil {
		return nil, nil, err
	}
	kwargs := make([]starlark.Tuple, len(c.kwargs))
	for i, kv := range c.kwargs {
		v, err := resolve(kv[1])
		if err != nil {
			return nil, nil, err
		}
		kwargs[i] = starlark.Tuple{kv[0], v}
	}
	return args, kwargs, nil
}

// runner builds the function the executor calls once the task's
// dependencies are done.
func (a *App) runner(s *Session, c *call, io *bashIO) func(context.Context, dfk.Env) (any, error) {
	return func(ctx context.Context, env dfk.Env) (any, error) {
		args, kwargs, err := c.resolved()
		if err != nil {
			return nil, err
		}
		v, err := s.callApp(ctx, a.fn, args, kwargs, c.walltime, a.kind != dfk.Bash)
		if err != nil {
			return nil, err
		}
		switch a.kind {
		case dfk.Bash:
			return a.runBash(ctx, s, v, io, c.walltime, env)
		case dfk.JoinApp:
			return joinOf(a, v)
		}
		return v, nil
	}
}

// callApp calls fn on a thread of its own. The walltime, when bounded by
// the body (python and join apps), cancels the thread.
func (s *Session) callApp(ctx context.Context, fn *starlark.Function, args starlark.Tuple, kwargs []starlark.Tuple, walltime time.Duration, bounded bool) (starlark.Value, error) {
	thread := s.newThread(fn.Name())
	var timedOut atomic.Bool
	stop := context.AfterFunc(ctx, func() { thread.Cancel("run interrupted") })
	defer stop()
	if walltime > 0 && bounded {
		t := time.AfterFunc(walltime, func() {
			timedOut.Store(true)
			thread.Cancel("walltime exceeded")
		})
		defer t.Stop()
	}
	v, err := starlark.Call(thread, fn, args, kwargs)
	if err != nil {
		if timedOut.Load() {
			return nil, &dfk.AppTimeout{App: fn.Name(), Walltime: walltime}
		}
		if cause := context.Cause(ctx); cause != nil {
			return nil, cause
		}
		return nil, err
	}
	v.Freeze()
	return v, nil
}

// newThread makes the Starlark thread for one app call: one thread per
// call, with the session attached so the body may submit tasks.
func (s *Session) newThread(name string) *starlark.Thread {
	t := &starlark.Thread{Name: name, Print: s.Print}
	s.Attach(t)
	return t
}

// joinOf turns what a join app returned into what the kernel waits on.
func joinOf(a *App, v starlark.Value) (any, error) {
	switch x := v.(type) {
	case waitable:
		return &dfk.Join{Futures: []*dfk.Future{x.future()}, Combine: func(vals []any) any { return x.value(vals[0]) }}, nil
	case *starlark.List, starlark.Tuple:
		seq := x.(starlark.Indexable)
		ws := make([]waitable, seq.Len())
		fs := make([]*dfk.Future, seq.Len())
		for i := range ws {
			w, ok := seq.Index(i).(waitable)
			if !ok {
				if i == 0 {
					return v, nil // a plain list: the join app's value
				}
				return nil, newAppError("TypeError", "join_app %s returned a list mixing futures and %s; return a future or a list of futures", a.fn.Name(), seq.Index(i).Type())
			}
			ws[i], fs[i] = w, w.future()
		}
		_, isTuple := x.(starlark.Tuple)
		return &dfk.Join{Futures: fs, List: true, Combine: func(vals []any) any {
			out := make([]starlark.Value, len(vals))
			for i, w := range ws {
				out[i] = w.value(vals[i])
			}
			if isTuple {
				return starlark.Tuple(out)
			}
			l := starlark.NewList(out)
			l.Freeze()
			return l
		}}, nil
	}
	return v, nil
}

// remoteCall prepares the call for a worker: the app's code bundle is
// made here, so a global that cannot travel is an error at this line.
func (a *App) remoteCall(s *Session, c *call, io *bashIO) (*remoteCall, error) {
	if a.kind == dfk.JoinApp {
		return nil, fmt.Errorf("%s: a join_app runs in this process, not on an executor", a.fn.Name())
	}
	b, err := s.appBundle(a.fn)
	if err != nil {
		return nil, err
	}
	return &remoteCall{app: a, c: c, io: io, codec: s.codec, bundle: b}, nil
}
