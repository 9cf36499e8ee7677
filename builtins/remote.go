package builtins

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/codec"
	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/executors/bash"
	"github.com/starflow-hpc/starflow/executors/htex"
	"github.com/starflow-hpc/starflow/stdlib/exc"
)

// This file is the Starlark side of the HighThroughputExecutor: the Call a
// task carries to a worker (remoteCall) and what runs it there
// (WorkerRunner). Both sides speak builtins.ValueCodec(), the encoding the
// memo store uses, so a value that can be memoized can travel and the
// other way round.

// remoteCall is a python or bash app call bound for an HTEX worker.
type remoteCall struct {
	app    *App
	c      *call
	io     *bashIO
	codec  *codec.Codec
	bundle *bundleEntry

	// id is the task's id, known only once Submit returned; a bash app
	// whose output goes to AUTO_LOGNAME needs it to name its files.
	idMu sync.Mutex
	id   int
}

var _ htex.Call = (*remoteCall)(nil)

// bundleEntry is an app's code bundle, made once per function per session.
type bundleEntry struct {
	hash string
	data []byte
}

// appBundle returns fn's code bundle, made on first use: a global the app
// reads that cannot travel is an error at the first call's line.
func (s *Session) appBundle(fn *starlark.Function) (*bundleEntry, error) {
	if v, ok := s.bundles.Load(fn); ok {
		return v.(*bundleEntry), nil
	}
	if s.opts.Bundle == nil {
		return nil, fmt.Errorf("%s: this host cannot send code to remote workers", fn.Name())
	}
	hash, data, err := s.opts.Bundle(fn)
	if err != nil {
		return nil, err
	}
	v, _ := s.bundles.LoadOrStore(fn, &bundleEntry{hash: hex.EncodeToString(hash[:]), data: data})
	return v.(*bundleEntry), nil
}

// stdio paths travel with their mode as a one-byte prefix: 'w' truncates,
// 'a' appends; "" means the worker's own output.
func streamWire(path string, appendMode bool) string {
	switch {
	case path == "":
		return ""
	case appendMode:
		return "a" + path
	}
	return "w" + path
}

func wireRedirect(s string) bash.Redirect {
	if s == "" {
		return bash.Redirect{}
	}
	return bash.Redirect{Path: s[1:], Append: s[0] == 'a'}
}

// Encode resolves the futures among the arguments (the task's
// dependencies are done by now) and encodes the call.
func (r *remoteCall) Encode() (*htex.Task, error) {
	c := r.c
	args, kwargs, err := c.resolved()
	if err != nil {
		return nil, err
	}
	t := &htex.Task{Kind: htex.KindPython, App: r.app.fn.Name(), Func: r.app.fn.Name(),
		BundleHash: r.bundle.hash, Bundle: r.bundle.data, Walltime: c.walltime}
	if c.mpi != nil {
		t.Env = c.mpi.Env() // the worker places the task by it
	}
	if t.Args, err = r.codec.Marshal(args); err != nil {
		return nil, r.travelError(args, kwargs, err)
	}
	kw := make(starlark.Tuple, len(kwargs))
	for i, kv := range kwargs {
		kw[i] = kv
	}
	if t.Kwargs, err = r.codec.Marshal(kw); err != nil {
		return nil, r.travelError(args, kwargs, err)
	}
	if r.io != nil {
		t.Kind = htex.KindBash
		r.idMu.Lock()
		id := r.id
		r.idMu.Unlock()
		t.Stdout = streamWire(r.io.path(r.io.stdout, id, "stdout"), r.io.stdout.append)
		t.Stderr = streamWire(r.io.path(r.io.stderr, id, "stderr"), r.io.stderr.append)
	}
	return t, nil
}

// travelError names the argument that cannot be sent.
func (r *remoteCall) travelError(args starlark.Tuple, kwargs []starlark.Tuple, err error) error {
	name := r.app.fn.Name()
	for i, a := range args {
		if _, e := r.codec.Marshal(a); e != nil {
			pname := strconv.Itoa(i)
			if i < r.app.fn.NumParams() {
				pname, _ = r.app.fn.Param(i)
			}
			return newAppError("TypeError", "%s: argument %s (a %s) cannot travel to a remote worker: %v", name, pname, a.Type(), e)
		}
	}
	for _, kv := range kwargs {
		if _, e := r.codec.Marshal(kv[1]); e != nil {
			return newAppError("TypeError", "%s: argument %s (a %s) cannot travel to a remote worker: %v", name, kv[0].(starlark.String), kv[1].Type(), e)
		}
	}
	return newAppError("TypeError", "%s: arguments cannot travel to a remote worker: %v", name, err)
}

// Decode turns a worker's result into the try's outcome; an error keeps
// the kind, message and traceback the worker saw.
func (r *remoteCall) Decode(res *htex.Result) (any, error) {
	if e := res.Err; e != nil {
		return nil, r.remoteErr(e)
	}
	if r.io != nil {
		return starlark.MakeInt(0), nil
	}
	v, err := r.codec.Unmarshal(res.Value)
	if err != nil {
		return nil, fmt.Errorf("%s: decode the result from the worker: %w", r.app.fn.Name(), err)
	}
	return v, nil
}

func (r *remoteCall) remoteErr(e *htex.RemoteError) error {
	name := r.app.fn.Name()
	switch e.Kind {
	case "BashExitFailure":
		if code, err := strconv.Atoi(e.Traceback); err == nil {
			return r.withLogs(&bash.ExitFailure{App: name, Code: code})
		}
	case "AppTimeout":
		return r.withLogs(&dfk.AppTimeout{App: name, Walltime: r.c.walltime})
	}
	return r.withLogs(&RemoteError{appError: appError{kind: e.Kind, msg: e.Message}, Traceback: e.Traceback})
}

// withLogs names a bash app's output files in its failure, as a local run
// does.
func (r *remoteCall) withLogs(err error) error {
	if r.io == nil {
		return err
	}
	r.idMu.Lock()
	id := r.id
	r.idMu.Unlock()
	out, errp := r.io.path(r.io.stdout, id, "stdout"), r.io.path(r.io.stderr, id, "stderr")
	if out == "" && errp == "" {
		return err
	}
	return &logsError{err: err, stdout: out, stderr: errp}
}

// RemoteError is an exception raised by an app on a worker: type(e) and
// str(e) are the worker's, and `except ValueError` catches a ValueError
// raised there.
type RemoteError struct {
	appError
	// Traceback is the app's backtrace on the worker.
	Traceback string
}

func (e *RemoteError) Unwrap() error { return &e.appError }

// retryFree says a failure spends no retry: the worker holding the try was
// lost, so the app may never have run. Bounded, so that an app that kills
// its worker every time cannot keep the run going for ever.
func retryFree(err error, failCount int) bool {
	var ml *htex.ManagerLost
	return failCount <= maxFreeRetries && errors.As(err, &ml)
}

const maxFreeRetries = 10

// WorkerRunner runs tasks in a `starflow worker`: it compiles each code
// bundle once (by hash) and calls the app on a Starlark thread of its own.
type WorkerRunner struct {
	load           func(data []byte, thread *starlark.Thread) (*starlark.Function, error)
	stdout, stderr io.Writer
	codec          *codec.Codec

	printMu sync.Mutex
	mu      sync.Mutex
	fns     map[string]*loadedBundle
}

type loadedBundle struct {
	once sync.Once
	fn   *starlark.Function
	err  error
}

var _ htex.Runner = (*WorkerRunner)(nil)

// NewWorkerRunner returns a runner; load compiles a bundle
// (interp.LoadBundle with the script's predeclared names), stdout and
// stderr receive print() and bash apps' output without a file.
func NewWorkerRunner(load func(data []byte, thread *starlark.Thread) (*starlark.Function, error), stdout, stderr io.Writer) *WorkerRunner {
	return &WorkerRunner{load: load, stdout: stdout, stderr: stderr, codec: ValueCodec(), fns: map[string]*loadedBundle{}}
}

func (w *WorkerRunner) print(_ *starlark.Thread, msg string) {
	w.printMu.Lock()
	defer w.printMu.Unlock()
	fmt.Fprintln(w.stdout, msg)
}

func (w *WorkerRunner) function(t *htex.Task) (*starlark.Function, error) {
	w.mu.Lock()
	lb := w.fns[t.BundleHash]
	if lb == nil {
		lb = &loadedBundle{}
		w.fns[t.BundleHash] = lb
	}
	w.mu.Unlock()
	lb.once.Do(func() {
		thread := &starlark.Thread{Name: "load " + t.App, Print: w.print}
		lb.fn, lb.err = w.load(t.Bundle, thread)
	})
	return lb.fn, lb.err
}

// Run implements htex.Runner.
func (w *WorkerRunner) Run(ctx context.Context, t *htex.Task, env htex.SlotEnv) *htex.Result {
	fn, err := w.function(t)
	if err != nil {
		return failed(fmt.Errorf("%s: load its code on the worker: %w", t.App, err))
	}
	args, kwargs, err := w.decodeArgs(t)
	if err != nil {
		return failed(err)
	}
	v, err := w.call(ctx, t, fn, args, kwargs)
	if err != nil {
		return failed(err)
	}
	if t.Kind == htex.KindBash {
		return w.runBash(ctx, t, v, env)
	}
	b, err := w.codec.Marshal(v)
	if err != nil {
		return failed(newAppError("TypeError", "%s: its result (a %s) cannot travel back from the worker: %v", t.App, v.Type(), err))
	}
	return &htex.Result{Value: b}
}

func (w *WorkerRunner) decodeArgs(t *htex.Task) (starlark.Tuple, []starlark.Tuple, error) {
	a, err := w.codec.Unmarshal(t.Args)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: decode the arguments: %w", t.App, err)
	}
	args, ok := a.(starlark.Tuple)
	k, err := w.codec.Unmarshal(t.Kwargs)
	kw, ok2 := k.(starlark.Tuple)
	if err != nil || !ok || !ok2 {
		return nil, nil, fmt.Errorf("%s: malformed arguments", t.App)
	}
	kwargs := make([]starlark.Tuple, len(kw))
	for i, kv := range kw {
		pair, ok := kv.(starlark.Tuple)
		if !ok || len(pair) != 2 {
			return nil, nil, fmt.Errorf("%s: malformed keyword arguments", t.App)
		}
		kwargs[i] = pair
	}
	return args, kwargs, nil
}

// call runs the app's body; a python app's walltime cancels its thread.
func (w *WorkerRunner) call(ctx context.Context, t *htex.Task, fn *starlark.Function, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	thread := &starlark.Thread{Name: t.App, Print: w.print}
	stop := context.AfterFunc(ctx, func() { thread.Cancel("worker stopped") })
	defer stop()
	var timedOut atomic.Bool
	if t.Walltime > 0 && t.Kind == htex.KindPython {
		tm := time.AfterFunc(t.Walltime, func() {
			timedOut.Store(true)
			thread.Cancel("walltime exceeded")
		})
		defer tm.Stop()
	}
	v, err := starlark.Call(thread, fn, args, kwargs)
	if err != nil {
		if timedOut.Load() {
			return nil, &dfk.AppTimeout{App: t.App, Walltime: t.Walltime}
		}
		return nil, err
	}
	return v, nil
}

func (w *WorkerRunner) runBash(ctx context.Context, t *htex.Task, v starlark.Value, env htex.SlotEnv) *htex.Result {
	cmd, ok := v.(starlark.String)
	if !ok {
		return failed(newAppError("TypeError", "bash_app %s must return the command line as a string, got %s", t.App, v.Type()))
	}
	spec := bash.Spec{
		Command:       string(cmd),
		Stdout:        wireRedirect(t.Stdout),
		Stderr:        wireRedirect(t.Stderr),
		DefaultStdout: w.stdout,
		DefaultStderr: w.stderr,
		Env:           append(env.Environ(), t.Env...),
		Walltime:      t.Walltime,
	}
	err := bash.Run(ctx, t.App, spec)
	var ef *bash.ExitFailure
	switch {
	case err == nil:
		return &htex.Result{}
	case errors.As(err, &ef):
		// A failed result carries no value on the wire, and a bash
		// failure has no traceback: the exit code travels there.
		res := failed(err)
		res.Err.Traceback = strconv.Itoa(ef.Code)
		return res
	}
	return failed(err)
}

// failed is a result carrying err as the script would see it.
func failed(err error) *htex.Result {
	re := &htex.RemoteError{Kind: errorKind(err), Message: errorMessage(err)}
	var ev *starlark.EvalError
	if errors.As(err, &ev) {
		re.Message, re.Traceback = exc.Message(ev), ev.Backtrace()
	}
	return &htex.Result{Err: re}
}
