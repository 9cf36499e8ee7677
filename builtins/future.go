package builtins

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/dfk"
)

// AppFuture is what calling an app returns: Parsl's AppFuture.
type AppFuture struct {
	fut     *dfk.Future
	outputs *starlark.List // DataFutures, one per outputs= entry
	stdout  starlark.Value // the resolved path, or None
	stderr  starlark.Value
}

var _ starlark.HasAttrs = (*AppFuture)(nil)

func (f *AppFuture) String() string {
	state := f.fut.State().String()
	return fmt.Sprintf("<AppFuture task %d (%s) %s>", f.fut.ID(), f.fut.App(), state)
}
func (f *AppFuture) Type() string          { return "AppFuture" }
func (f *AppFuture) Freeze()               {}
func (f *AppFuture) Truth() starlark.Bool  { return true }
func (f *AppFuture) Hash() (uint32, error) { return uint32(f.fut.ID()) * 2654435761, nil }

// Future is the kernel future behind the value.
func (f *AppFuture) Future() *dfk.Future { return f.fut }

var appFutureMethods = map[string]*starlark.Builtin{
	"result":    starlark.NewBuiltin("result", futureResult),
	"done":      starlark.NewBuiltin("done", futureDone),
	"exception": starlark.NewBuiltin("exception", futureException),
	"running":   starlark.NewBuiltin("running", futureRunning),
	"cancelled": starlark.NewBuiltin("cancelled", futureCancelled),

	"add_done_callback": starlark.NewBuiltin("add_done_callback", futureAddDoneCallback),
}

func (f *AppFuture) AttrNames() []string {
	return []string{"add_done_callback", "cancelled", "done", "exception", "outputs", "result", "running", "stderr", "stdout", "task_status", "tid"}
}

func (f *AppFuture) Attr(name string) (starlark.Value, error) {
	switch name {
	case "tid":
		return starlark.MakeInt(f.fut.ID()), nil
	case "outputs":
		return f.outputs, nil
	case "stdout":
		return f.stdout, nil
	case "stderr":
		return f.stderr, nil
	case "task_status":
		return starlark.String(f.fut.State().String()), nil
	}
	if b, ok := appFutureMethods[name]; ok {
		return b.BindReceiver(f), nil
	}
	return nil, nil
}

// waitable is the part of AppFuture and DataFuture the methods share.
type waitable interface {
	starlark.Value
	future() *dfk.Future
	value(v any) starlark.Value // the Starlark value of a successful outcome
}

func (f *AppFuture) future() *dfk.Future { return f.fut }
func (f *AppFuture) value(v any) starlark.Value {
	if sv, ok := v.(starlark.Value); ok {
		return sv
	}
	return starlark.None
}

// wait blocks until fut is done, the timeout passes or the run is
// interrupted. Only the calling Starlark thread blocks. It returns why
// waiting stopped early (a timeout, an interrupt); nil means the task is
// done and fut.Outcome() is what it produced.
func wait(thread *starlark.Thread, op string, fut *dfk.Future, timeout starlark.Value) error {
	if fut.Done() {
		return nil
	}
	ctx := context.Background()
	if s, err := sessionOf(thread); err == nil {
		ctx = s.Context()
	}
	if timeout != nil && timeout != starlark.None {
		secs, ok := starlark.AsFloat(timeout)
		if !ok {
			return fmt.Errorf("%s: for parameter timeout: got %s, want a number of seconds or None", op, timeout.Type())
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, time.Duration(secs*float64(time.Second)),
			newAppError("TimeoutError", "%s: task %d (%s) not done after %gs", op, fut.ID(), fut.App(), secs))
		defer cancel()
	}
	_, err := fut.Wait(ctx)
	if fut.Done() {
		// The task may have settled just as the wait gave up: its
		// outcome wins over the timeout.
		return nil
	}
	return err
}

func futureResult(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var timeout starlark.Value = starlark.None
	if err := unpackArgs(b.Name(), args, kwargs, "timeout?", &timeout); err != nil {
		return nil, err
	}
	w := b.Receiver().(waitable)
	fut := w.future()
	if err := wait(thread, b.Name(), fut, timeout); err != nil {
		return nil, err
	}
	fut.Observe()
	v, err := fut.Outcome()
	if err != nil {
		return nil, &resultError{err: err}
	}
	return thaw(w.value(v)), nil
}

// thaw returns a mutable copy of a frozen result's lists, dicts and sets,
// as Python hands the caller an object it may change. Results are frozen
// because they cross goroutines (and may be shared by dependents and the
// memo table); the copy is the caller's alone. Immutable values are
// returned as they are, at no cost.
func thaw(v starlark.Value) starlark.Value {
	switch x := v.(type) {
	case *starlark.List:
		elems := make([]starlark.Value, x.Len())
		for i := range elems {
			elems[i] = thaw(x.Index(i))
		}
		return starlark.NewList(elems)
	case *starlark.Dict:
		d := starlark.NewDict(x.Len())
		for _, kv := range x.Items() {
			_ = d.SetKey(kv[0], thaw(kv[1]))
		}
		return d
	case *starlark.Set:
		s := new(starlark.Set)
		iter := x.Iterate()
		defer iter.Done()
		var e starlark.Value
		for iter.Next(&e) {
			_ = s.Insert(e)
		}
		return s
	case starlark.Tuple:
		if !holdsMutable(x) {
			return x
		}
		out := make(starlark.Tuple, len(x))
		for i, e := range x {
			out[i] = thaw(e)
		}
		return out
	}
	return v
}

// holdsMutable reports whether v is, or a tuple holds, a list, dict or set.
func holdsMutable(v starlark.Value) bool {
	switch x := v.(type) {
	case *starlark.List, *starlark.Dict, *starlark.Set:
		return true
	case starlark.Tuple:
		for _, e := range x {
			if holdsMutable(e) {
				return true
			}
		}
	}
	return false
}

// resultError is what result() raises for a failed task. It prints the
// task's failure with the app's backtrace and unwraps to the task error so
// the caller can classify it.
type resultError struct{ err error }

func (e *resultError) Error() string { return failureText(e.err) }
func (e *resultError) Unwrap() error { return e.err }

func futureException(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var timeout starlark.Value = starlark.None
	if err := unpackArgs(b.Name(), args, kwargs, "timeout?", &timeout); err != nil {
		return nil, err
	}
	fut := b.Receiver().(waitable).future()
	if err := wait(thread, b.Name(), fut, timeout); err != nil {
		return nil, err
	}
	fut.Observe()
	if _, err := fut.Outcome(); err != nil {
		return errorValueOf(err), nil
	}
	return starlark.None, nil
}

func futureDone(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return starlark.Bool(b.Receiver().(waitable).future().Done()), nil
}

func futureRunning(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	s := b.Receiver().(waitable).future().State()
	return starlark.Bool(s == dfk.Running || s == dfk.Joining), nil
}

func futureCancelled(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	_, err := b.Receiver().(waitable).future().Outcome()
	return starlark.Bool(errors.Is(err, dfk.ErrInterrupted)), nil
}

// DataFuture is Parsl's DataFuture: a File an app produces, ready when the
// app finishes.
type DataFuture struct {
	parent *dfk.Future
	file   *File
}

var _ starlark.HasAttrs = (*DataFuture)(nil)

func (d *DataFuture) String() string {
	return fmt.Sprintf("<DataFuture %s of task %d>", d.file.path, d.parent.ID())
}
func (d *DataFuture) Type() string             { return "DataFuture" }
func (d *DataFuture) Freeze()                  {}
func (d *DataFuture) Truth() starlark.Bool     { return true }
func (d *DataFuture) Hash() (uint32, error)    { return d.file.Hash() }
func (d *DataFuture) future() *dfk.Future      { return d.parent }
func (d *DataFuture) value(any) starlark.Value { return d.file }
func (d *DataFuture) AttrNames() []string {
	return []string{"add_done_callback", "cancelled", "done", "exception", "file_obj", "filename", "filepath", "result", "running", "tid"}
}

func (d *DataFuture) Attr(name string) (starlark.Value, error) {
	switch name {
	case "tid":
		return starlark.MakeInt(d.parent.ID()), nil
	case "file_obj":
		return d.file, nil
	case "filepath", "filename":
		return d.file.Attr(name)
	}
	switch name {
	case "result", "done", "exception", "running", "cancelled", "add_done_callback":
		return appFutureMethods[name].BindReceiver(d), nil
	}
	return nil, nil
}
